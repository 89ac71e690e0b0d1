/**
 * The Sonobuoy binary used as an interop peer, built by `test/peers/build.sh` into a cache
 * outside the repo. Tests call `sonobuoyBinary()` and skip with `sonobuoyUnavailableReason`
 * when it is undefined; under CI they fail instead (test/support/required.ts).
 */
import { execFile } from 'node:child_process';
import { constants } from 'node:fs';
import { access } from 'node:fs/promises';
import { homedir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const SONOBUOY_VERSION = 'v0.57.5';

const BUILD_SCRIPT = join(dirname(fileURLToPath(import.meta.url)), 'build.sh');
/** A cold build downloads and compiles client-go: minutes on two cores. */
const BUILD_TIMEOUT_MS = 20 * 60_000;

/** Why `sonobuoyBinary()` last returned undefined (for the skip message). */
export let sonobuoyUnavailableReason = '';

/** Where build.sh puts the binary (`$FATHOM_CACHE`, default `~/.cache/fathom`). */
export function sonobuoyBinaryPath(): string {
  const root = process.env.FATHOM_CACHE || join(homedir(), '.cache', 'fathom');
  return join(root, 'bin', `sonobuoy-${SONOBUOY_VERSION}`, 'sonobuoy');
}

async function executable(path: string): Promise<boolean> {
  try {
    await access(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

async function onPath(command: string): Promise<boolean> {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir && (await executable(join(dir, command)))) return true;
  }
  return false;
}

let pending: Promise<string | undefined> | undefined;

async function findOrBuild(): Promise<string | undefined> {
  const path = sonobuoyBinaryPath();
  if (await executable(path)) return path;
  if (!(await onPath('go'))) {
    sonobuoyUnavailableReason = `Sonobuoy ${SONOBUOY_VERSION} is not built at ${path} and 'go' is not on PATH; run test/peers/build.sh`;
    return undefined;
  }
  try {
    await new Promise<void>((resolve, reject) => {
      execFile('bash', [BUILD_SCRIPT], { timeout: BUILD_TIMEOUT_MS }, (err, _out, stderr) =>
        err ? reject(new Error(`${err.message}\n${stderr.slice(-2000)}`)) : resolve(),
      );
    });
  } catch (err) {
    sonobuoyUnavailableReason = `building Sonobuoy ${SONOBUOY_VERSION} failed: ${(err as Error).message}`;
    return undefined;
  }
  if (await executable(path)) return path;
  sonobuoyUnavailableReason = `build.sh finished but ${path} is missing`;
  return undefined;
}

/**
 * The cached Sonobuoy binary, building it with `build.sh` when missing and `go` exists;
 * undefined when it cannot be had (see `sonobuoyUnavailableReason`). Built once per process.
 */
export function sonobuoyBinary(): Promise<string | undefined> {
  pending ??= findOrBuild();
  return pending;
}

/**
 * `sonobuoy results` prints "Errors detected in files" in Go map order (the error types, and files
 * with equal counts), fathom in sorted order: both are put in that order before they are compared.
 */
export function errorOrder(text: string): string {
  const head = 'Errors detected in files:\n';
  const at = text.indexOf(head);
  if (at === -1) return text;
  const blocks: { type: string; files: string[] }[] = [];
  for (const line of text.slice(at + head.length).split('\n')) {
    if (line === '') continue;
    if (/^ *\d+ /.test(line)) blocks[blocks.length - 1]?.files.push(line);
    else blocks.push({ type: line, files: [] });
  }
  const count = (l: string): number => Number(/\d+/.exec(l)![0]);
  const file = (l: string): string => l.replace(/^ *\d+ /, '');
  const sorted = blocks
    .sort((a, b) => (a.type < b.type ? -1 : 1))
    .map(
      (b) =>
        `${b.type}\n${b.files
          .sort((x, y) => count(y) - count(x) || (file(x) < file(y) ? -1 : 1))
          .map((l) => `${l}\n`)
          .join('')}`,
    );
  return text.slice(0, at + head.length) + sorted.join('');
}
