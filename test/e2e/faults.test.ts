import { isAlive } from '../../src/backends/local/process/group.js';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as tar from 'tar';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fathom, tempDir } from '../support/cli.js';
import { whenInDir } from '../support/wait.js';

const job = (name: string, script: string, format = 'raw'): string => `
sonobuoy-config: {driver: Job, plugin-name: ${name}, result-format: ${format}}
spec:
  name: plugin
  image: busybox:1.36
  command: [sh, -c]
  args:
    - |
${script
  .trim()
  .split('\n')
  .map((l) => `      ${l}`)
  .join('\n')}
`;

const faultyPlugins: Record<string, string> = {
  good: job(
    'good',
    'echo fine > "$RESULTS_DIR/ok.txt"; echo "$RESULTS_DIR/ok.txt" > "$RESULTS_DIR/done"',
  ),
  crash: job('crash', 'echo "fatal: cannot reach the widget service" >&2; exit 3'),
  'bad-done': job('bad-done', 'echo /etc/passwd > "$RESULTS_DIR/done"'),
  'evil-tar': job(
    'evil-tar',
    'mkdir -p "$RESULTS_DIR/in"; echo owned > "$RESULTS_DIR/evil"; cd "$RESULTS_DIR/in" && tar -czPf "$RESULTS_DIR/r.tar.gz" ../evil; echo "$RESULTS_DIR/r.tar.gz" > "$RESULTS_DIR/done"',
  ),
  huge: job(
    'huge',
    'head -c 3145728 /dev/zero > "$RESULTS_DIR/big.bin"; echo "$RESULTS_DIR/big.bin" > "$RESULTS_DIR/done"',
  ),
  hang: job('hang', 'exec sleep 600'),
  'no-done': job('no-done', 'echo "written without a done file" > "$RESULTS_DIR/partial.txt"'),
  silent: job('silent', 'echo "nothing to report"'),
};

interface Entry {
  plugin: string;
  node: string;
  status: string;
}

async function runStatus(env: NodeJS.ProcessEnv, ns: string): Promise<Map<string, string>> {
  const r = await fathom(['status', '-n', ns, '-o', 'json'], env);
  const status = JSON.parse(r.stdout) as { plugins: Entry[] };
  return new Map(status.plugins.map((e) => [e.plugin, e.status]));
}

async function errorOf(root: string, plugin: string): Promise<string> {
  const e = JSON.parse(
    await readFile(join(root, 'plugins', plugin, 'errors', 'global', 'error.json'), 'utf8'),
  ) as { error: string };
  return e.error;
}

describe('faults become error results, and the run still completes', () => {
  let home: string;
  let root: string;
  let run: Awaited<ReturnType<typeof fathom>>;
  const env = (): NodeJS.ProcessEnv => ({ FATHOM_HOME: home });

  beforeAll(async () => {
    home = await tempDir('faults');
    const plugins = await tempDir('fault-plugins');
    for (const [name, yaml] of Object.entries(faultyPlugins))
      await writeFile(join(plugins, `${name}.yaml`), yaml);
    run = await fathom(
      [
        'run',
        '--wait',
        '-p',
        plugins,
        '-n',
        'faults',
        '--timeout',
        '15s',
        '--max-result-size',
        '1Mi',
        '--terminated-grace',
        '1s',
        '--nodes',
        '1',
      ],
      env(),
    );
    const out = await tempDir('fault-out');
    const tarball = (await fathom(['retrieve', out, '-n', 'faults'], env())).stdout.trim();
    root = await tempDir('fault-tree');
    await tar.x({ file: tarball, cwd: root });
  }, 120_000);
  afterAll(async () => {
    await fathom(['delete', '-n', 'faults'], env());
  });

  it('exits 1 and marks each faulty plugin failed while good ones complete', async () => {
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^error: run .* a plugin failed or timed out$/m);
    expect(Object.fromEntries(await runStatus(env(), 'faults'))).toEqual({
      'bad-done': 'failed',
      crash: 'failed',
      'evil-tar': 'failed',
      good: 'complete',
      hang: 'failed',
      huge: 'failed',
      'no-done': 'complete',
      silent: 'failed',
    });
  });

  it('records why, in Sonobuoy words, and keeps every accepted result', async () => {
    expect(await errorOf(root, 'crash')).toBe(
      'Container plugin is in a terminated state (exit code 3) due to reason: Error: fatal: cannot reach the widget service',
    );
    expect(await errorOf(root, 'bad-done')).toMatch(
      /\/etc\/passwd.*outside|outside.*\/etc\/passwd/,
    );
    expect(await errorOf(root, 'evil-tar')).toMatch(
      /^Container sonobuoy-worker is in a terminated state \(exit code 1\)/,
    );
    expect(await errorOf(root, 'huge')).toMatch(
      /^Container sonobuoy-worker is in a terminated state \(exit code 1\)/,
    );
    // Exited 0 leaving nothing: what the plugin did, not an empty (or "broken") archive.
    expect(await errorOf(root, 'silent')).toBe(
      'Container plugin is in a terminated state (exit code 0) due to reason: Completed: nothing to report',
    );
    await expect(readdir(join(root, 'plugins/silent/results/global'))).rejects.toThrow(/ENOENT/);
    expect(await errorOf(root, 'hang')).toBe(
      'Plugin timeout while waiting for results so there are no results. Check pod logs or other cluster details for more information as to why this occurred.',
    );
    expect(await readFile(join(root, 'plugins/good/results/global/ok.txt'), 'utf8')).toBe('fine\n');
    // The worker archived the results dir itself when the plugin exited 0 without `done`.
    expect(await readFile(join(root, 'plugins/no-done/results/global/partial.txt'), 'utf8')).toBe(
      'written without a done file\n',
    );
    // Nothing from the hostile archive landed anywhere.
    await expect(readdir(join(root, 'plugins/evil-tar/results/global'))).rejects.toThrow();
    // The root holds the results and the cluster snapshot, nothing else.
    expect((await readdir(root)).sort()).toEqual([
      'hosts',
      'meta',
      'plugins',
      'podlogs',
      'resources',
      'serverversion.json',
    ]);
  });
});

describe('killed processes become error results, not hangs', () => {
  it('turns a killed plugin and a killed worker (its node host) into errors', async () => {
    const home = await tempDir('kill');
    const marks = await tempDir('kill-marks');
    const plugins = await tempDir('kill-plugins');
    await writeFile(
      join(plugins, 'victim.yaml'),
      job('victim', 'echo $$ > "$MARK_DIR/victim.pid"; exec sleep 600'),
    );
    await writeFile(join(plugins, 'orphan.yaml'), job('orphan', 'exec sleep 600'));
    const env = { FATHOM_HOME: home };
    const running = fathom(
      [
        'run',
        '--wait',
        '-p',
        plugins,
        '-n',
        'kill',
        '--timeout',
        '2m',
        '--terminated-grace',
        '1s',
        '--plugin-env',
        `victim.MARK_DIR=${marks}`,
      ],
      env,
    );
    const victim = await whenInDir(
      marks,
      async () => Number(await readFile(join(marks, 'victim.pid'), 'utf8')) || undefined,
    );
    const runDir = join(home, 'runs', 'kill');
    const pids = join(runDir, 'pids');
    process.kill(victim, 'SIGKILL');
    // The victim's error is in before the worker side goes: each fault gets its own result.
    await whenInDir(runDir, async () => {
      const s = JSON.parse(await readFile(join(runDir, 'status.json'), 'utf8')) as {
        plugins: Entry[];
      };
      return s.plugins.some((e) => e.plugin === 'victim' && e.status === 'failed') || undefined;
    });
    // Every pod's worker runs in the run's node host: killing it kills the orphan's worker.
    const host = await whenInDir(pids, async () => {
      for (const pid of await readdir(pids)) {
        if ((await readFile(join(pids, pid), 'utf8')).trim() === 'node-host') return Number(pid);
      }
      return undefined;
    });
    process.kill(host, 'SIGKILL');
    const result = await running;
    expect(result.code).toBe(1);
    const status = JSON.parse(
      (await fathom(['status', '-n', 'kill', '-o', 'json'], env)).stdout,
    ) as { status: string; plugins: Entry[] };
    expect(status.status).toBe('complete');
    expect(status.plugins.map((e) => `${e.plugin}:${e.status}`).sort()).toEqual([
      'orphan:failed',
      'victim:failed',
    ]);
    const logs = await fathom(['logs', '-n', 'kill', '-p', 'fathom'], env);
    expect(logs.stdout).toContain(
      'Container plugin is in a terminated state (exit code 137) due to reason: Killed: killed by SIGKILL',
    );
    expect(logs.stdout).toContain(
      'Container sonobuoy-worker is in a terminated state (exit code 137)',
    );
    const started = (await readdir(pids)).map(Number);
    expect(started.length).toBeGreaterThanOrEqual(3); // two plugins, the node host
    expect((await fathom(['delete', '--all'], env)).stderr).toBe(
      'Deleted the run in namespace "kill".\n',
    );
    await expect(readdir(join(home, 'runs'))).resolves.toEqual([]);
    // Every process the run started is gone, the ones nobody killed included.
    // Gone or a zombie not yet reaped by init (dead either way).
    expect(started.filter(isAlive)).toEqual([]);
  }, 120_000);
});
