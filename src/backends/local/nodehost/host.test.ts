import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { connect } from 'node:net';
import { ManualClock, systemClock } from '../../../core/clock.js';
import { createRunCa } from '../../../core/pki.js';
import { writeTlsDir } from '../../../core/tls-files.js';
import type { ContainerState } from '../process/pod.js';
import { NodeHostClient } from './client.js';
import { NodeHost } from './host.js';

let dir: string;
let host: NodeHost;
let clients: NodeHostClient[];

const client = (): NodeHostClient => {
  const c = new NodeHostClient({
    socketPath: join(dir, 'host.sock'),
    clock: systemClock,
    start: async () => {
      await host.listen(join(dir, 'host.sock'));
      return { pid: process.pid };
    },
  });
  clients.push(c);
  return c;
};

/** A worker's environment, as the local runtime gives it: it waits for a done file. */
async function workerEnv(name: string, overrides: Record<string, string> = {}) {
  const results = join(dir, name, 'results');
  await mkdir(results, { recursive: true });
  const ca = await createRunCa({ now: Date.now() });
  const tls = join(dir, name, 'tls');
  await writeTlsDir(tls, { caPem: ca.caPem, ...(await ca.clientCert(name)) });
  return {
    AGGREGATOR_URL: 'https://127.0.0.1:1',
    RESULT_TYPE: name,
    SONOBUOY_RESULTS_DIR: results,
    FATHOM_TLS_DIR: tls,
    FATHOM_POLL_INTERVAL: '50ms',
    ...overrides,
  };
}

/** Resolves with the first state of `pod` that `check` accepts. */
function stateOf(
  c: NodeHostClient,
  pod: string,
  check: (s: ContainerState) => boolean,
): Promise<ContainerState> {
  const now = c.stateOf(pod);
  if (now && check(now)) return Promise.resolve(now);
  return new Promise((resolve) => {
    const off = c.onState((p, s) => {
      if (p === pod && check(s)) {
        off();
        resolve(s);
      }
    });
  });
}

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fathom-nodehost-'));
  host = new NodeHost(systemClock);
  clients = [];
});
afterEach(async () => {
  await host.close();
  await rm(dir, { recursive: true, force: true });
});

describe('node host', () => {
  it('runs workers in-process; a crashing one ends alone, as `fathom worker` would have', async () => {
    const aggregator = client();
    const good = await aggregator.startWorker({
      pod: 'fathom-good-job',
      mode: 'global',
      env: await workerEnv('good'),
      logFile: join(dir, 'good', 'sonobuoy-worker.log'),
    });
    expect(good.pid).toBe(process.pid);
    expect(good.port).toBeGreaterThan(0); // its progress relay listens
    const bad = await aggregator.startWorker({
      pod: 'fathom-bad-job',
      mode: 'global',
      env: await workerEnv('bad', { AGGREGATOR_URL: 'http://127.0.0.1:1' }),
      logFile: join(dir, 'bad', 'sonobuoy-worker.log'),
    });
    expect(bad.port).toBe(0);
    const crashed = await stateOf(aggregator, 'fathom-bad-job', (s) => s.state === 'terminated');
    expect(crashed).toEqual({
      state: 'terminated',
      exitCode: 2,
      signal: null,
      reason: 'Error',
      message: expect.stringMatching(/^error: AGGREGATOR_URL: .* must use https/),
    });
    expect(await readFile(join(dir, 'bad', 'sonobuoy-worker.log'), 'utf8')).toBe(
      `${(crashed as { message: string }).message}\n`,
    );
    expect(aggregator.stateOf('fathom-good-job')).toEqual({ state: 'running', pid: process.pid });

    // An aggregator restarted after a crash connects and is told every worker's state.
    const restarted = client();
    expect(await restarted.attach()).toBe(true);
    await stateOf(restarted, 'fathom-bad-job', (s) => s.state === 'terminated');
    expect(restarted.stateOf('fathom-good-job')).toEqual({ state: 'running', pid: process.pid });

    // Stopped, the waiting worker ends cleanly.
    restarted.stopWorker('fathom-good-job');
    expect(
      await stateOf(restarted, 'fathom-good-job', (s) => s.state === 'terminated'),
    ).toMatchObject({ exitCode: 0, reason: 'Completed' });
    expect(await readFile(join(dir, 'good', 'sonobuoy-worker.log'), 'utf8')).toMatch(
      /waiting for the done file[\s\S]*worker done/,
    );
    await restarted.shutdown();
    await host.closed;
  });

  it('exits once idle with no aggregator connected, unless one connects first', async () => {
    const clock = new ManualClock();
    const idleHost = new NodeHost(clock, 60_000);
    const path = join(dir, 'idle.sock');
    await idleHost.listen(path);
    let closed = false;
    void idleHost.closed.then(() => (closed = true));
    const visit = async (): Promise<void> => {
      const socket = connect(path);
      await new Promise((r) => socket.once('data', r)); // hello
      socket.end();
      await new Promise((r) => socket.once('close', r));
    };
    await visit();
    await clock.whenSleeping();
    await clock.advance(59_000);
    await visit(); // an aggregator came back: the countdown starts again when it leaves
    await clock.whenSleeping();
    await clock.advance(59_000);
    expect(closed).toBe(false);
    await clock.advance(1_000);
    await idleHost.closed;
  });

  it('is not there to attach to until started', async () => {
    expect(await client().attach()).toBe(false);
  });
});
