import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as tar from 'tar';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fathom, tempDir } from '../support/cli.js';
import { whenInDir } from '../support/wait.js';

/**
 * The aggregator is killed with SIGKILL mid-run on the local backend, twice: once brought back
 * by merely looking at the run (`fathom status`), once on purpose (`fathom resume`) after a
 * worker's upload failed against the dead aggregator. Every result accepted before a kill must
 * be in the final tarball, and no plugin runs twice.
 */
describe('crash recovery: the aggregator is killed mid-run (local backend)', () => {
  let home: string;
  let work: string;
  let runDir: string;
  const ns = 'crash';
  const env = (): NodeJS.ProcessEnv => ({ FATHOM_HOME: home });

  interface Status {
    status: string;
    plugins: { plugin: string; node: string; status: string }[];
  }
  const readStatus = async (): Promise<Status | undefined> =>
    JSON.parse(await readFile(join(runDir, 'status.json'), 'utf8')) as Status;
  const aggregatorPid = async (): Promise<number> =>
    Number(await readFile(join(runDir, 'aggregator.pid'), 'utf8'));
  const alive = (pid: number): boolean => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };
  /** SIGKILL, then wait for the process to be gone (it is reparented to init and reaped). */
  const killAggregator = async (): Promise<number> => {
    const pid = await aggregatorPid();
    expect(alive(pid)).toBe(true);
    process.kill(pid, 'SIGKILL');
    for (let i = 0; i < 1_000_000 && alive(pid); i++) await new Promise((r) => setImmediate(r));
    expect(alive(pid)).toBe(false);
    return pid;
  };

  beforeAll(async () => {
    home = await tempDir('crash-home');
    work = await tempDir('crash-work');
    runDir = join(home, 'runs', ns);
    const gate = join(work, 'gate');
    const runs = join(work, 'fast-runs');
    await writeFile(
      join(work, 'fast.yaml'),
      `sonobuoy-config: {driver: Job, plugin-name: fast, result-format: raw}
spec:
  name: plugin
  image: busybox:1.36
  command: [sh, -c]
  args: ['echo run >> ${runs}; echo fast > "$RESULTS_DIR/fast.txt"; echo "$RESULTS_DIR/fast.txt" > "$RESULTS_DIR/done"']
`,
    );
    await writeFile(
      join(work, 'slow.yaml'),
      `sonobuoy-config: {driver: DaemonSet, plugin-name: slow, result-format: raw}
spec:
  name: plugin
  image: busybox:1.36
  command: [sh, -c]
  args: ['while [ ! -e ${gate} ]; do sleep 0.1; done; echo "slow on $NODE_NAME" > "$RESULTS_DIR/slow.txt"; echo "$RESULTS_DIR/slow.txt" > "$RESULTS_DIR/done"']
`,
    );
    const started = await fathom(
      [
        'run',
        '-n',
        ns,
        '-p',
        join(work, 'fast.yaml'),
        '-p',
        join(work, 'slow.yaml'),
        '--nodes',
        '2',
        '--timeout',
        '3m',
      ],
      env(),
    );
    expect(started.code, started.stderr).toBe(0);
  }, 60_000);
  afterAll(async () => {
    await fathom(['delete', '-n', ns], env());
  });

  it('is restarted by `fathom status`, resumes, and `retrieve --partial` has what was accepted', async () => {
    await whenInDir(runDir, async () => {
      const s = await readStatus();
      return s?.plugins.some((e) => e.plugin === 'fast' && e.status === 'complete') || undefined;
    });
    const killed = await killAggregator();

    const status = await fathom(['status', '-n', ns, '-o', 'json'], env());
    expect(status.code, status.stderr).toBe(0);
    const seen = JSON.parse(status.stdout) as Status;
    expect(seen.status).toBe('running');
    expect(seen.plugins.find((e) => e.plugin === 'fast')?.status).toBe('complete');
    const restarted = await aggregatorPid();
    expect(restarted).not.toBe(killed);
    expect(alive(restarted)).toBe(true);

    const out = await tempDir('crash-partial');
    const partial = await fathom(['retrieve', '--partial', out, '-n', ns], env());
    expect(partial.code, partial.stderr).toBe(0);
    const file = partial.stdout.trim();
    expect(file).toMatch(/_partial\.tar\.gz$/);
    const tree = await tempDir('crash-partial-tree');
    await tar.x({ file, cwd: tree });
    expect(await readFile(join(tree, 'plugins/fast/results/global/fast.txt'), 'utf8')).toBe(
      'fast\n',
    );
    // Post-processed like a finished run, so `fathom results` reads it.
    const results = await fathom(['results', file], env());
    expect(results.code, results.stderr).toBe(0);
    expect(results.stdout).toContain('fast');
  });

  it('`fathom resume` brings it back after an upload failed, and the final tarball has everything', async () => {
    await killAggregator();
    await writeFile(join(work, 'gate'), '');
    // A worker tries to upload to the dead aggregator, fails, and keeps retrying.
    const workerLog = join(runDir, 'pods', 'slow', 'node-1', 'sonobuoy-worker.log');
    await whenInDir(
      join(runDir, 'pods', 'slow', 'node-1'),
      async () =>
        (await readFile(workerLog, 'utf8').catch(() => '')).includes('retrying') || undefined,
    );

    const resumed = await fathom(['resume', '-n', ns], env());
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.stderr).toContain('Restarted the aggregator');

    const done = await whenInDir(
      runDir,
      async () => {
        const s = await readStatus();
        return s?.status === 'complete' ? s : undefined;
      },
      90_000,
    );
    expect(done.plugins.map((e) => [e.plugin, e.node, e.status])).toEqual([
      ['fast', 'global', 'complete'],
      ['slow', 'node-1', 'complete'],
      ['slow', 'node-2', 'complete'],
    ]);
    const out = await tempDir('crash-out');
    const file = (await fathom(['retrieve', out, '-n', ns], env())).stdout.trim();
    const tree = await tempDir('crash-tree');
    await tar.x({ file, cwd: tree });
    expect(await readFile(join(tree, 'plugins/fast/results/global/fast.txt'), 'utf8')).toBe(
      'fast\n',
    );
    for (const node of ['node-1', 'node-2']) {
      expect(await readFile(join(tree, `plugins/slow/results/${node}/slow.txt`), 'utf8')).toBe(
        `slow on ${node}\n`,
      );
    }
    // The plugin that finished before the first kill ran exactly once.
    expect(await readFile(join(work, 'fast-runs'), 'utf8')).toBe('run\n');
  }, 120_000);
});
