/**
 * Sessions on the local backend, end to end with the built CLI: a cluster of pools servers ×2,
 * clients ×2, drivers ×1; a load test submitted with --wait succeeds (the driver checks
 * QPS_WORKERS), its events come in order, its driver's output is kept, and nothing stays
 * reserved; a session needing 3 servers is refused at submit; a running session cancelled ends
 * Cancelled with every process gone; a controller killed with SIGKILL mid-session is restarted
 * by the next CLI call and the session still succeeds. Waits poll the CLI's own answers against
 * deadlines.
 */
import { spawn } from 'node:child_process';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isAlive } from '../../src/backends/local/process/group.js';
import { fathom, fathomBin, tempDir } from '../support/cli.js';

let home = '';
const env = () => ({ FATHOM_HOME: home });
const node = process.execPath;

interface SessionJson {
  metadata: { name: string };
  status?: { state: string; reason: string };
}
interface PoolJson {
  name: string;
  capacity: number;
  reserved: number;
  available: number;
  holders: { holder: string; nodes: string[] }[];
}

/** A script file (no quoting in YAML) run by node. */
async function script(name: string, code: string): Promise<string[]> {
  const file = join(home, `${name}.js`);
  await writeFile(file, code);
  return [node, file];
}

const serve = `
console.log("pid " + process.pid);
require("node:net").createServer((s) => s.end()).listen(Number(process.env.FATHOM_PORT), "127.0.0.1");`;

async function sessionFile(name: string, driver: string[], servers = 1): Promise<string> {
  const serverCmd = await script('server', serve);
  const doc = {
    apiVersion: 'fathom.dev/v1alpha1',
    kind: 'Session',
    metadata: { name },
    spec: {
      timeout: '60s',
      components: [
        { name: 'driver', kind: 'driver', pool: 'drivers', command: driver },
        {
          name: 'server',
          kind: 'server',
          pool: 'servers',
          replicas: servers,
          port: 1,
          command: serverCmd,
        },
        { name: 'client', kind: 'client', pool: 'clients', port: 1, command: serverCmd },
      ],
    },
  };
  const file = join(home, `${name}.yaml`);
  await writeFile(file, JSON.stringify(doc, null, 2));
  return file;
}

async function get(name: string): Promise<SessionJson> {
  const r = await fathom(['session', 'get', name, '-o', 'json'], env());
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as SessionJson;
}

async function pools(): Promise<PoolJson[]> {
  const r = await fathom(['pools', '-o', 'json'], env());
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as PoolJson[];
}

/** Polls `probe` until it answers true, failing after `ms`. */
async function until(
  what: string,
  probe: () => boolean | Promise<boolean>,
  ms = 20_000,
): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const state = async (name: string): Promise<string | undefined> => (await get(name)).status?.state;
const controllerPid = async (): Promise<number> =>
  Number(await readFile(join(home, 'sessions', 'controller.pid'), 'utf8'));
/** The pids the components printed (`pid N`), from their live logs. */
async function pids(name: string): Promise<number[]> {
  const r = await fathom(['session', 'logs', name], env());
  return [...r.stdout.matchAll(/pid (\d+)/g)].map((m) => Number(m[1]));
}

beforeAll(async () => {
  home = await tempDir('sessions');
  const cluster = join(home, 'cluster.yaml');
  const n = (name: string, pool: string) => `  - {name: ${name}, labels: {pool: ${pool}}}\n`;
  await writeFile(
    cluster,
    'apiVersion: fathom.dev/v1alpha1\nkind: Cluster\nnodes:\n' +
      n('s1', 'servers') +
      n('s2', 'servers') +
      n('c1', 'clients') +
      n('c2', 'clients') +
      n('d1', 'drivers'),
  );
  const r = await fathom(['cluster', 'create', '--config', cluster], env());
  expect(r.code, r.stderr).toBe(0);
});

afterAll(async () => {
  const pid = await controllerPid().catch(() => 0);
  if (isAlive(pid)) process.kill(pid, 'SIGTERM');
  await until('the controller to stop', () => !isAlive(pid), 10_000).catch(() => {});
  await rm(home, { recursive: true, force: true });
});

describe('sessions on the local backend', () => {
  it('a load test submitted with --wait succeeds; events in order; driver logs kept; nothing reserved after', async () => {
    const driver = await script(
      'driver-ok',
      `const w = process.env.QPS_WORKERS.split(",");
       const both = process.env.FATHOM_SERVERS + "," + process.env.FATHOM_CLIENTS;
       if (w.length !== 2 || process.env.QPS_WORKERS !== both) { console.log("bad " + process.env.QPS_WORKERS); process.exit(3); }
       console.log("driver saw " + w.length + " workers");`,
    );
    const file = await sessionFile('lt', driver);
    const r = await fathom(['session', 'submit', '-f', file, '--wait'], env());
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toMatch(/session lt: running \(Running\)/);
    expect(r.stdout).toMatch(/session lt: Succeeded/);
    const s = await get('lt');
    expect(s.metadata.name).toBe('lt');
    expect(s.status).toMatchObject({ state: 'Succeeded', reason: 'DriverSucceeded' });
    const ev = await fathom(['session', 'events', 'lt', '-o', 'json'], env());
    expect((JSON.parse(ev.stdout) as { kind: string }[]).map((e) => e.kind)).toEqual([
      'queued',
      'accepted',
      'provisioning',
      'running',
      'done',
    ]);
    const logs = await fathom(['session', 'logs', 'lt', '-c', 'driver'], env());
    expect(logs.stdout).toBe('driver saw 2 workers\n');
    expect((await pools()).map((p) => [p.name, p.capacity, p.reserved, p.holders.length])).toEqual([
      ['clients', 2, 0, 0],
      ['drivers', 1, 0, 0],
      ['servers', 2, 0, 0],
    ]);
  });

  it('a session needing 3 servers is refused at submit: exit 2, one line naming pool, request and capacity', async () => {
    const file = await sessionFile('big', await script('driver-big', 'process.exit(0)'), 3);
    const r = await fathom(['session', 'submit', '-f', file], env());
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('error: session big: pool "servers" has 2 nodes, the session needs 3\n');
    expect((await fathom(['session', 'get', 'big'], env())).code).toBe(1);
  });

  it('a running session cancelled ends Cancelled, its processes gone and its nodes free', async () => {
    const driver = await script(
      'driver-sleep',
      `console.log("pid " + process.pid); setInterval(() => {}, 1000);`,
    );
    const file = await sessionFile('sleepy', driver);
    expect((await fathom(['session', 'submit', '-f', file], env())).code).toBe(0);
    await until('sleepy running', async () => (await state('sleepy')) === 'Running');
    let running: number[] = [];
    await until('three pids', async () => (running = await pids('sleepy')).length === 3);
    expect(running.every((p) => isAlive(p))).toBe(true);
    const r = await fathom(['session', 'cancel', 'sleepy'], env());
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('session sleepy cancelled\n');
    expect((await get('sleepy')).status).toMatchObject({ state: 'Cancelled', reason: 'Cancelled' });
    expect(running.filter((p) => isAlive(p))).toEqual([]);
    expect((await pools()).every((p) => p.reserved === 0)).toBe(true);
  });

  it('a second controller only follows while the first leads, and stops cleanly on SIGTERM', async () => {
    expect((await fathom(['session', 'list'], env())).code).toBe(0); // the first one runs
    const second = spawn(process.execPath, [fathomBin, 'session-controller'], {
      env: { ...process.env, FATHOM_HOME: home },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let log = '';
    second.stdout.on('data', (c: Buffer) => (log += c.toString()));
    const exited = new Promise<number | null>((r) => second.once('exit', (code) => r(code)));
    await until('the second to follow', () => log.includes('"role":"follower"'));
    second.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(log).not.toMatch(/"msg":"leading"/);
    expect(log).toMatch(/"msg":"stopped"/);
    for (const line of log.trim().split('\n'))
      expect(() => JSON.parse(line) as unknown).not.toThrow();
  });

  it('the controller killed with SIGKILL mid-session: the next CLI call restarts it and the session succeeds', async () => {
    const go = join(home, 'go');
    const driver = await script(
      'driver-go',
      `const fs = require("node:fs");
       const t = setInterval(() => { if (fs.existsSync(${JSON.stringify(go)})) { clearInterval(t); console.log("went"); } }, 20);`,
    );
    const file = await sessionFile('survivor', driver);
    expect((await fathom(['session', 'submit', '-f', file], env())).code).toBe(0);
    await until('survivor running', async () => (await state('survivor')) === 'Running');
    const before = await controllerPid();
    process.kill(before, 'SIGKILL');
    await until('the controller to die', () => !isAlive(before));
    const next = await fathom(['session', 'get', 'survivor'], env());
    expect(next.code).toBe(0);
    expect(next.stderr).toMatch(/restarted/);
    const after = await controllerPid();
    expect(after).not.toBe(before);
    expect(isAlive(after)).toBe(true);
    // Followed while it runs: the output once, whether seen live or kept at the end.
    const follow = fathom(['session', 'logs', 'survivor', '-c', 'driver', '-f'], env());
    await writeFile(go, 'go');
    const followed = await follow;
    expect(followed.code, followed.stderr).toBe(0);
    expect(followed.stdout).toBe('went\n');
    await until('survivor to end', async () => (await state('survivor')) !== 'Running');
    expect((await get('survivor')).status, JSON.stringify(await get('survivor'))).toMatchObject({
      state: 'Succeeded',
    });
    const logs = await fathom(['session', 'logs', 'survivor', '-c', 'driver'], env());
    expect(logs.stdout).toBe('went\n');
    await until('nodes free', async () => (await pools()).every((p) => p.reserved === 0));
  });
  it('the cluster deleted under a running session (cluster.json re-read): Errored PodsMissing, nothing held', async () => {
    const driver = await script('driver-forever', 'setInterval(() => {}, 1000);');
    const file = await sessionFile('orphan', driver);
    expect((await fathom(['session', 'submit', '-f', file], env())).code).toBe(0);
    await until('orphan running', async () => (await state('orphan')) === 'Running');
    expect((await fathom(['cluster', 'delete', '--force'], env())).code).toBe(0);
    await until('orphan to end', async () => (await state('orphan')) !== 'Running');
    expect((await get('orphan')).status).toMatchObject({ state: 'Errored', reason: 'PodsMissing' });
    expect(await pools()).toEqual([]);
    const r = await fathom(['session', 'events', 'orphan', '-o', 'json'], env());
    expect((JSON.parse(r.stdout) as { kind: string }[]).at(-1)?.kind).toBe('errored');
  });
});
