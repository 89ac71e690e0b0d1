/**
 * `kubectl fathom …`: kubectl runs the `kubectl-fathom` bin from PATH with the rest of the
 * arguments. The bin is the same CLI as `fathom` (same main, same exit codes); its help names it
 * `kubectl fathom`.
 */
import { execFile, spawnSync } from 'node:child_process';
import { readFile, symlink } from 'node:fs/promises';
import { delimiter, dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot, tempDir, type CliResult } from '../support/cli.js';
import { available } from '../support/required.js';

const kubectlBin = join(repoRoot, 'bin', 'kubectl-fathom.js');

function run(
  cmd: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv = {},
): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(
      cmd,
      [...args],
      { env: { ...process.env, CI: 'true', NO_COLOR: '1', ...env } },
      (err, stdout, stderr) =>
        resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr }),
    );
  });
}

describe('the kubectl-fathom bin', () => {
  it('is declared in package.json and executable', async () => {
    const pkg = JSON.parse(await readFile(join(repoRoot, 'package.json'), 'utf8')) as {
      bin: Record<string, string>;
    };
    expect(pkg.bin['kubectl-fathom']).toBe('bin/kubectl-fathom.js');
    expect(pkg.bin.fathom).toBe('bin/fathom.js');
  });

  it('answers --version and names itself `kubectl fathom` in help', async () => {
    const version = await run(process.execPath, [kubectlBin, '--version']);
    const plain = await run(process.execPath, [join(repoRoot, 'bin', 'fathom.js'), '--version']);
    expect(version.code).toBe(0);
    expect(version.stdout).toBe(plain.stdout);
    const help = await run(process.execPath, [kubectlBin, 'run', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^Usage: kubectl fathom run \[options\]/);
    expect(help.stdout).toContain('--backend <name>');
  });

  it('exits as fathom does: 2 for bad input, 1 for a failure', async () => {
    const bad = await run(process.execPath, [kubectlBin, 'run', '--backend', 'nowhere']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^error: .*nowhere/);
    const missing = await run(process.execPath, [kubectlBin, 'results', '/nonexistent/x.tar.gz']);
    expect(missing.code).toBe(1);
  });
});

const haveKubectl = spawnSync('sh', ['-c', 'command -v kubectl']).status === 0;

describe.skipIf(!available(haveKubectl, 'kubectl is not on PATH'))('kubectl fathom', () => {
  it('runs the bin as a kubectl plugin found on PATH, exit codes and all', async () => {
    const dir = await tempDir('kubectl-plugin');
    await symlink(kubectlBin, join(dir, 'kubectl-fathom'));
    // The plugin's `#!/usr/bin/env node` must find the node running this test.
    const PATH = [dirname(process.execPath), dir, process.env.PATH ?? ''].join(delimiter);
    const version = await run('kubectl', ['fathom', '--version'], { PATH });
    expect(version.stderr).toBe('');
    expect(version.code).toBe(0);
    expect(version.stdout).toMatch(/^\d+\.\d+\.\d+/);
    const help = await run('kubectl', ['fathom', 'session', '--help'], { PATH });
    expect(help.stdout).toMatch(/^Usage: kubectl fathom session/);
    const bad = await run('kubectl', ['fathom', 'completion', 'tcsh'], { PATH });
    expect(bad.code).toBe(2);
  });
});
