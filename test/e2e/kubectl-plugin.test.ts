/**
 * `kubectl fathom …`: kubectl runs the `kubectl-fathom` bin from PATH with the rest of the
 * arguments. The bin is the same CLI as `fathom` (same main, same exit codes); its help names it
 * `kubectl fathom`. kubectl (≥ 1.26) completes `kubectl fathom …` by running the
 * `kubectl_complete-fathom` bin, which answers in cobra's `__complete` protocol.
 */
import { execFile, spawnSync } from 'node:child_process';
import { access, constants, readFile, symlink } from 'node:fs/promises';
import { delimiter, dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot, tempDir, type CliResult } from '../support/cli.js';
import { available } from '../support/required.js';

const kubectlBin = join(repoRoot, 'bin', 'kubectl-fathom.js');
const completeBin = join(repoRoot, 'bin', 'kubectl_complete-fathom.js');

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
    expect(pkg.bin['kubectl_complete-fathom']).toBe('bin/kubectl_complete-fathom.js');
    await access(completeBin, constants.X_OK);
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

describe('the kubectl_complete-fathom bin', () => {
  it("answers cobra's __complete protocol: candidates one a line, then :directive", async () => {
    const commands = await run(process.execPath, [completeBin, 're']);
    expect(commands.code).toBe(0);
    const lines = commands.stdout.trimEnd().split('\n');
    expect(lines.at(-1)).toBe(':4'); // no file names
    expect(lines.slice(0, -1).map((l) => l.split('\t')[0])).toEqual([
      'retrieve',
      'resume',
      'results',
    ]);
    expect(lines[2]).toMatch(/^results\t\S/); // with its description
    const choices = await run(process.execPath, [completeBin, 'run', '--backend', '']);
    expect(choices.stdout).toBe('local\nkubernetes\n:4\n');
    const files = await run(process.execPath, [completeBin, 'results', '']);
    expect(files.stdout).toBe(':0\n'); // the shell completes file names
  });
});

const haveKubectl = spawnSync('sh', ['-c', 'command -v kubectl']).status === 0;

/** kubectl ≥ 1.26 completes plugins' arguments through kubectl_complete-<plugin>. */
function completesPlugins(kubectl: string): boolean {
  const r = spawnSync(kubectl, ['version', '--client', '-o', 'json'], { encoding: 'utf8' });
  if (r.status !== 0) return false;
  const v = (JSON.parse(r.stdout) as { clientVersion?: { major?: string; minor?: string } })
    .clientVersion;
  return Number(v?.major) > 1 || (Number(v?.major) === 1 && parseInt(v?.minor ?? '', 10) >= 26);
}

/** The kubectl built by test/kubectl/build.sh (.ci/run builds it), else one on PATH if new enough. */
function completingKubectl(): string | undefined {
  const built = spawnSync('bash', [join(repoRoot, 'test', 'kubectl', 'build.sh'), '--check'], {
    encoding: 'utf8',
  });
  if (built.status === 0) return built.stdout.trim();
  return haveKubectl && completesPlugins('kubectl') ? 'kubectl' : undefined;
}
const kubectlForCompletion = completingKubectl();

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

describe.skipIf(
  !available(
    kubectlForCompletion !== undefined,
    'no kubectl ≥ 1.26 (plugin completion): run bash test/kubectl/build.sh',
  ),
)('kubectl fathom <TAB>', () => {
  const kubectl = kubectlForCompletion!;
  it('kubectl completes the plugin through kubectl_complete-fathom on PATH', async () => {
    const dir = await tempDir('kubectl-complete');
    await symlink(kubectlBin, join(dir, 'kubectl-fathom'));
    await symlink(completeBin, join(dir, 'kubectl_complete-fathom'));
    const PATH = [dirname(process.execPath), dir, process.env.PATH ?? ''].join(delimiter);
    // `kubectl __complete` is what kubectl's own shell completion scripts call.
    const commands = await run(kubectl, ['__complete', 'fathom', 'ru'], { PATH });
    expect(commands.code).toBe(0);
    expect(commands.stdout.split('\n').map((l) => l.split('\t')[0])).toEqual(['run', ':4', '']);
    const flags = await run(kubectl, ['__complete', 'fathom', 'gen', 'plugin', '--na'], {
      PATH,
    });
    expect(flags.stdout).toMatch(/^--name\tplugin name[^\n]*\n:4\n$/);
    const values = await run(kubectl, ['__complete', 'fathom', 'completion', ''], { PATH });
    expect(values.stdout).toBe('bash\nzsh\nfish\n:4\n');
  });
});
