/**
 * `fathom run --pool` on the local backend, end to end with the built CLI: a session holds a
 * node of pool "servers"; a run on that pool waits (saying who holds it), goes on once the
 * session ends, runs its DaemonSet plugin on exactly the pool's nodes and its Job on one of
 * them, and holds the pool meanwhile (`fathom pools` shows `run/<name>`, and a session
 * submitted then waits, also across a controller killed with SIGKILL); when the run completes the pool is free and that session runs. A pool
 * no node is in is refused at once. Waits ask the CLI again whenever the state under
 * $FATHOM_HOME changes (or the run's output grows), never on a timer.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isAlive } from '../../src/backends/local/process/group.js';
import { fathom, fathomBin, repoRoot, tempDir } from '../support/cli.js';
import { whenInDir } from '../support/wait.js';

let home = '';
let plugins = '';
const env = () => ({ FATHOM_HOME: home });

interface PoolJson {
  name: string;
  holders: { holder: string; nodes: string[] }[];
}

/** Resolves once `probe` holds, asking again at each change in `dir` (the store is state.db). */
function until(probe: () => Promise<boolean>, dir = home): Promise<true> {
  return whenInDir(dir, async () => ((await probe()) ? true : undefined));
}

/** Resolves once the child's output holds `text`. */
function untilOutput(child: ChildProcessWithoutNullStreams, text: string): Promise<void> {
  let seen = '';
  return new Promise((resolve) => {
    const look = (c: Buffer): void => {
      seen += c.toString();
      if (!seen.includes(text)) return;
      child.stderr.off('data', look);
      resolve();
    };
    child.stderr.on('data', look);
  });
}

async function holders(pool: string): Promise<string[]> {
  const r = await fathom(['pools', '-o', 'json'], env());
  expect(r.code, r.stderr).toBe(0);
  const p = (JSON.parse(r.stdout) as PoolJson[]).find((x) => x.name === pool)!;
  return p.holders.map((h) => `${h.holder}:${h.nodes.join(',')}`);
}

async function state(name: string): Promise<string | undefined> {
  const r = await fathom(['session', 'get', name, '-o', 'json'], env());
  expect(r.code, r.stderr).toBe(0);
  return (JSON.parse(r.stdout) as { status?: { state: string } }).status?.state;
}

/** A session of one driver on pool "servers" that exits once `go` exists. */
async function session(name: string, go: string): Promise<string> {
  const code = `const f = ${JSON.stringify(go)}; setInterval(() => require("node:fs").existsSync(f) && process.exit(0), 50);`;
  const script = join(home, `${name}.js`);
  await writeFile(script, code);
  const doc = {
    apiVersion: 'fathom.dev/v1alpha1',
    kind: 'Session',
    metadata: { name },
    spec: {
      timeout: '60s',
      components: [
        { name: 'driver', kind: 'driver', pool: 'servers', command: [process.execPath, script] },
      ],
    },
  };
  const file = join(home, `${name}.yaml`);
  await writeFile(file, JSON.stringify(doc));
  return file;
}

beforeAll(async () => {
  home = await tempDir('run-pool');
  plugins = join(home, 'plugins');
  const n = (name: string, pool?: string) =>
    `  - {name: ${name}${pool ? `, labels: {pool: ${pool}}` : ''}}\n`;
  const cluster = join(home, 'cluster.yaml');
  await writeFile(
    cluster,
    'apiVersion: fathom.dev/v1alpha1\nkind: Cluster\nnodes:\n' +
      n('s1', 'servers') +
      n('s2', 'servers') +
      n('d1', 'drivers') +
      n('x1'),
  );
  expect((await fathom(['cluster', 'create', '--config', cluster], env())).code).toBe(0);
  await import('node:fs/promises').then((fs) => fs.mkdir(plugins));
  const go = join(home, 'plugin-go');
  // Each node's plugin waits for `go`, so the run holds the pool while the test looks.
  await writeFile(
    join(plugins, 'per-node.yaml'),
    `sonobuoy-config: {driver: DaemonSet, plugin-name: per-node, result-format: raw}\n` +
      `spec: {name: plugin, image: busybox, command: [sh, -c, 'while [ ! -f ${go} ]; do sleep 0.05; done; echo "$NODE_NAME" > "$RESULTS_DIR/node.txt"; echo "$RESULTS_DIR/node.txt" > "$RESULTS_DIR/done"']}\n`,
  );
  await writeFile(
    join(plugins, 'once.yaml'),
    `sonobuoy-config: {driver: Job, plugin-name: once, result-format: raw}\n` +
      `spec: {name: plugin, image: busybox, command: [sh, -c, 'echo "$NODE_NAME" > ${join(home, 'job-node')}; echo "$NODE_NAME" > "$RESULTS_DIR/node.txt"; echo "$RESULTS_DIR/node.txt" > "$RESULTS_DIR/done"']}\n`,
  );
});

afterAll(async () => {
  const pid = Number(
    await readFile(join(home, 'sessions', 'controller.pid'), 'utf8').catch(() => '0'),
  );
  // Killed outright: nothing of it is needed once the home is removed.
  if (isAlive(pid)) process.kill(pid, 'SIGKILL');
  await rm(home, { recursive: true, force: true });
});

describe('fathom run --pool on the local backend', () => {
  it('a pool no node is in, or too few nodes: exit 2, one line, nothing left behind', async () => {
    const none = await fathom(['run', '--pool', 'gpus', '-p', plugins, '-n', 'nope'], env());
    expect(none.code).toBe(2);
    expect(none.stderr).toBe(
      'error: --pool gpus: pool "gpus" does not exist: no node has the label pool=gpus\n',
    );
    const big = ['run', '--pool', 'servers', '--pool-nodes', '3', '-p', plugins, '-n', 'nope'];
    const r = await fathom(big, env());
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(
      'error: --pool servers: pool "servers" has 2 nodes, the run asks for 3\n',
    );
    expect((await fathom(['status', '-n', 'nope'], env())).code).not.toBe(0);
  });

  it('waits for a session holding the pool, then runs on exactly its nodes and holds them until it completes', async () => {
    const holdGo = join(home, 'hold-go');
    const s = await fathom(['session', 'submit', '-f', await session('holder', holdGo)], env());
    expect(s.code, s.stderr).toBe(0);
    await until(async () => (await state('holder')) === 'Running');

    const child = spawn(
      process.execPath,
      [
        fathomBin,
        'run',
        '--pool',
        'servers',
        '-p',
        plugins,
        '-n',
        'pooled',
        '--wait',
        '-o',
        'json',
      ],
      { cwd: repoRoot, env: { ...process.env, ...env(), CI: 'true' } },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    const granted = untilOutput(child, 'Pool "servers": granted s1, s2.');

    await untilOutput(child, 'Waiting for the nodes of pool "servers", held by session holder.');
    expect(await holders('servers')).toEqual(['holder:s1']);
    expect(stderr).not.toMatch(/granted/);
    const waits = await fathom(['status', '-n', 'pooled'], env());
    expect(waits.stderr).toMatch(/the run in namespace "pooled" waits for the nodes of its pool/);

    await writeFile(holdGo, 'go');
    await granted;
    await until(async () => (await holders('servers')).join() === 'run/pooled:s1,s2');
    expect(await state('holder')).toBe('Succeeded');

    // A session submitted now waits for the run's nodes.
    const after = await fathom(['session', 'submit', '-f', await session('after', holdGo)], env());
    expect(after.code, after.stderr).toBe(0);
    expect(await state('after')).toBe('Queued');
    expect(await holders('servers')).toEqual(['run/pooled:s1,s2']);

    // The controller killed meanwhile: the next one takes the run's nodes back, admits nothing onto them.
    const log = join(home, 'sessions', 'controller.log');
    const leading = async () => (await readFile(log, 'utf8')).split('"msg":"leading"').length - 1;
    const before = await leading();
    process.kill(
      Number(await readFile(join(home, 'sessions', 'controller.pid'), 'utf8')),
      'SIGKILL',
    );
    expect((await fathom(['session', 'list'], env())).stderr).toMatch(/restarted it/);
    await until(async () => (await leading()) > before, join(home, 'sessions'));
    expect(await state('after')).toBe('Queued');
    expect(await holders('servers')).toEqual(['run/pooled:s1,s2']);

    await writeFile(join(home, 'plugin-go'), 'go');
    expect(await exited, stderr).toBe(0);
    const status = JSON.parse(stdout) as { plugins: { plugin: string; node: string }[] };
    expect(status.plugins.map((p) => `${p.plugin}:${p.node}`).sort()).toEqual([
      'once:global',
      'per-node:s1',
      'per-node:s2',
    ]);
    expect(['s1', 's2']).toContain((await readFile(join(home, 'job-node'), 'utf8')).trim());

    // Complete: the pool goes to the session that waited, then is free.
    await until(async () => (await state('after')) === 'Succeeded');
    await until(async () => (await holders('servers')).length === 0);
  });

  it("fathom delete gives the run's nodes back at once", async () => {
    const forever = join(home, 'forever');
    await import('node:fs/promises').then((fs) => fs.mkdir(forever));
    await writeFile(
      join(forever, 'sleeps.yaml'),
      `sonobuoy-config: {driver: DaemonSet, plugin-name: sleeps, result-format: raw}\n` +
        `spec: {name: plugin, image: busybox, command: [sh, -c, 'sleep 600']}\n`,
    );
    const r = await fathom(['run', '--pool', 'drivers', '-p', forever, '-n', 'del'], env());
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/Pool "drivers": granted d1\./);
    expect(await holders('drivers')).toEqual(['run/del:d1']);
    expect((await fathom(['delete', '-n', 'del'], env())).code).toBe(0);
    expect(await holders('drivers')).toEqual([]);
  });
});
