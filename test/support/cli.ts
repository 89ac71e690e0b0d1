import { execFile } from 'node:child_process';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const repoRoot = new URL('../../', import.meta.url).pathname;
export const fathomBin = join(repoRoot, 'bin', 'fathom.js');

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the built CLI as a user would, in its own process, and waits for it to exit. */
export function fathom(
  args: readonly string[],
  env: NodeJS.ProcessEnv = {},
  cwd = repoRoot,
): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [fathomBin, ...args],
      {
        cwd,
        env: { ...process.env, CI: 'true', NO_COLOR: '1', FORCE_COLOR: undefined, ...env },
        maxBuffer: 64 * 1024 * 1024,
      },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

export function tempDir(prefix: string): Promise<string> {
  return mkdtemp(join(tmpdir(), `fathom-${prefix}-`));
}

/**
 * One line on where a local run stands, for the message of an assertion that failed on it: its
 * status file and the last lines of its aggregator's log (CI shows a failure's first line only).
 */
export async function localRunTrail(home: string, namespace: string): Promise<string> {
  const dir = join(home, 'runs', namespace);
  const read = (file: string): Promise<string> =>
    readFile(join(dir, file), 'utf8').catch((err: Error) => `(${err.message})`);
  const log = (await read('aggregator.log')).trimEnd().split('\n').slice(-6);
  return `status.json: ${(await read('status.json')).trim()} | aggregator.log: ${log.join(' / ')}`;
}
