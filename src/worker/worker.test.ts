import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock, flushMicrotasks } from '../core/clock.js';
import { isFathomError } from '../core/errors.js';
import { settle, startMtlsRecorder } from '../../test/interop/mtls-recorder.js';
import type { MtlsRecorder } from '../../test/interop/mtls-recorder.js';
import { loadWorkerConfig } from './config.js';
import type { WorkerConfig, WorkerMode } from './config.js';
import type { ContainerState, ContainerStateSource } from './container-state.js';
import type { ProgressRelay } from './progress-relay.js';
import { runWorker } from './worker.js';
import type { RunWorkerOptions, WorkerOutcome } from './worker.js';

let dir: string;
let resultsDir: string;
let recorder: MtlsRecorder;
let clock: ManualClock;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fathom-worker-'));
  resultsDir = join(dir, 'results');
  await mkdir(resultsDir);
  recorder = await startMtlsRecorder({ plugin: 'e2e' });
  clock = new ManualClock();
});

afterEach(async () => {
  await recorder.close();
  await rm(dir, { recursive: true, force: true });
});

function config(mode: WorkerMode = 'global', extra: Record<string, string> = {}): WorkerConfig {
  return loadWorkerConfig(mode, {
    AGGREGATOR_URL: recorder.url,
    RESULT_TYPE: mode === 'global' ? 'e2e' : 'systemd-logs',
    NODE_NAME: 'node-1',
    SONOBUOY_RESULTS_DIR: resultsDir,
    CA_CERT: recorder.ca.caPem,
    CLIENT_CERT: recorder.client.certPem,
    CLIENT_KEY: recorder.client.keyPem,
    SONOBUOY_PROGRESS_PORT: '0',
    ...extra,
  });
}

/** Starts the worker and tracks whether it finished, so tests can assert it has not. */
function start(
  cfg: WorkerConfig,
  options: RunWorkerOptions = {},
  extra: { signal?: AbortSignal; containerStates?: ContainerStateSource } = {},
): { done: Promise<WorkerOutcome>; finished: () => boolean } {
  let finished = false;
  const done = runWorker(cfg, { clock, ...extra }, { relay: false, ...options });
  done.then(
    () => (finished = true),
    () => (finished = true),
  );
  return { done, finished: () => finished };
}

async function writeDone(content: string): Promise<void> {
  await writeFile(join(resultsDir, 'done'), content);
}

/** Lets `ms` of clock time pass, one sleep at a time, waiting for the worker's I/O in between. */
async function elapse(ms: number): Promise<void> {
  const end = clock.now() + ms;
  while (clock.now() < end) {
    await settle(() => clock.pending > 0);
    await clock.advance(Math.min(clock.pendingDelays()[0]!, end - clock.now()));
  }
  await settle(() => clock.pending > 0);
}

/** Waits for the worker to reach its done-file delay, then lets the delay pass. */
async function passDelay(): Promise<void> {
  await settle(() => clock.pendingDelays()[0] === 5_000);
  await clock.advance(5_000);
}

describe('runWorker: done file', () => {
  it('uploads a named file with its content type and file name', async () => {
    const file = join(resultsDir, 'junit.xml');
    await writeFile(file, '<testsuites/>');
    await writeDone(`  ${file}\n`);
    const { done } = start(config());
    await passDelay();
    const outcome = await done;
    expect(outcome).toMatchObject({
      status: 'uploaded',
      file,
      alreadyReceived: false,
      attempts: 1,
    });
    const [req] = recorder.requests;
    expect(req).toMatchObject({
      method: 'PUT',
      path: '/api/v1/results/global/e2e',
      clientCn: 'e2e',
    });
    expect(req!.headers['content-type']).toBe('text/xml; charset=utf-8');
    expect(req!.headers['content-disposition']).toBe('attachment;filename=junit.xml');
    expect(req!.body.toString()).toBe('<testsuites/>');
  });

  it('sends a .tar.gz as application/gzip, byte for byte', async () => {
    const file = join(resultsDir, 'out.tar.gz');
    const bytes = Buffer.from([0x1f, 0x8b, 8, 0, 1, 2, 3, 250, 251]);
    await writeFile(file, bytes);
    await writeDone(file);
    const { done } = start(config());
    await passDelay();
    await done;
    expect(recorder.requests[0]!.headers['content-type']).toBe('application/gzip');
    expect(recorder.requests[0]!.headers['content-disposition']).toBe(
      'attachment;filename=out.tar.gz',
    );
    expect(recorder.requests[0]!.body.equals(bytes)).toBe(true);
  });

  it('archives a directory into results.tar.gz, without links or itself', async () => {
    const out = join(resultsDir, 'out');
    await mkdir(join(out, 'sub'), { recursive: true });
    await writeFile(join(out, 'a.txt'), 'A');
    await writeFile(join(out, 'sub', 'b.json'), '{"b":1}');
    await symlink('/etc/hostname', join(out, 'link'));
    await writeDone(out);
    const { done } = start(config());
    await passDelay();
    const outcome = await done;
    expect(outcome.file).toBe(join(out, 'results.tar.gz'));
    const req = recorder.requests[0]!;
    expect(req.headers['content-type']).toBe('application/gzip');
    expect(req.headers['content-disposition']).toBe('attachment;filename=results.tar.gz');
    expect(tarNames(gunzipSync(req.body))).toEqual(['a.txt', 'sub/', 'sub/b.json']);
    expect((await readFile(join(out, 'results.tar.gz'))).equals(req.body)).toBe(true);
  });

  it('resumes waiting when the done file vanishes during the delay', async () => {
    const file = join(resultsDir, 'r.json');
    await writeFile(file, '{}');
    await writeDone(file);
    const { done } = start(config());
    await settle(() => clock.pendingDelays()[0] === 5_000);
    await rm(join(resultsDir, 'done'));
    await clock.advance(5_000);
    await settle(() => clock.pendingDelays()[0] === 1_000); // back to polling
    expect(recorder.requests).toHaveLength(0);
    await clock.advance(1_000);
    await settle(() => clock.pendingDelays()[0] === 1_000);
    await writeDone(file);
    await clock.advance(1_000);
    await passDelay();
    expect(await done).toMatchObject({ status: 'uploaded', file });
    expect(recorder.requests).toHaveLength(1);
    expect(recorder.requests[0]!.headers['content-type']).toBe('application/json');
  });

  it('uses the by-node path in single-node mode and stays alive until aborted', async () => {
    await writeFile(join(resultsDir, 'log.txt'), 'hi');
    await writeDone('log.txt'); // relative: taken from the results dir
    const stop = new AbortController();
    const logged: string[] = [];
    const log = (_: object, msg: string): number => logged.push(msg);
    const logger = { debug: log, info: log, warn: log, error: log };
    let finished = false;
    const done = runWorker(config('single-node'), { clock, signal: stop.signal, logger });
    void done.finally(() => (finished = true));
    await passDelay();
    await settle(() => logged.includes('result delivered'));
    expect(recorder.requests[0]!.path).toBe('/api/v1/results/by-node/node-1/systemd-logs');
    await flushMicrotasks();
    expect(finished).toBe(false);
    stop.abort();
    expect(await done).toMatchObject({ status: 'uploaded', file: join(resultsDir, 'log.txt') });
  });

  it("relays progress on loopback only, at SONOBUOY_PROGRESS_PORT's port", async () => {
    const stop = new AbortController();
    let relay: ProgressRelay | undefined;
    const { done } = start(
      config(),
      { relay: true, onRelayListening: (r) => (relay = r) },
      { signal: stop.signal },
    );
    await settle(() => relay !== undefined);
    expect(relay!.address).toBe('127.0.0.1');
    expect(relay!.url).toBe(`http://127.0.0.1:${relay!.port}/progress`);
    stop.abort();
    expect(await done).toMatchObject({ status: 'aborted' });
  });

  it('returns aborted without sending anything when stopped while waiting', async () => {
    const stop = new AbortController();
    const { done } = start(config(), {}, { signal: stop.signal });
    await settle(() => clock.pending === 1);
    stop.abort();
    expect(await done).toMatchObject({ status: 'aborted', attempts: 0 });
    expect(recorder.requests).toHaveLength(0);
  });
});

describe('runWorker: unusable result paths become error bodies', () => {
  async function errorBodyFor(named: string): Promise<{ error: string }> {
    await writeDone(named);
    const { done } = start(config());
    await passDelay();
    const outcome = await done;
    expect(outcome.status).toBe('error-reported');
    const req = recorder.requests[0]!;
    expect(req.path).toBe('/api/v1/results/global/e2e');
    expect(req.headers['content-type']).toBe('application/json');
    expect(req.headers['content-disposition']).toBeUndefined();
    const body = JSON.parse(req.body.toString()) as { error: string };
    expect(body.error).toBe(outcome.error);
    return body;
  }

  it('refuses a path outside the results dir', async () => {
    const outside = join(dir, 'secret.txt');
    await writeFile(outside, 'secret');
    const body = await errorBodyFor(outside);
    expect(body.error).toBe(
      `result path ${outside} is outside the results directory ${resultsDir}`,
    );
  });

  it('refuses a relative path that climbs out with ..', async () => {
    await writeFile(join(dir, 'secret.txt'), 'secret');
    expect((await errorBodyFor('../secret.txt')).error).toContain('outside the results directory');
  });

  it('refuses a symlink that leads out', async () => {
    await writeFile(join(dir, 'secret.txt'), 'secret');
    await symlink(join(dir, 'secret.txt'), join(resultsDir, 'sneaky.txt'));
    expect((await errorBodyFor('sneaky.txt')).error).toContain('leads outside');
  });

  it('reports a missing path', async () => {
    const body = await errorBodyFor(join(resultsDir, 'nope.xml'));
    expect(body.error).toBe(`result path ${join(resultsDir, 'nope.xml')} does not exist`);
  });

  it('reports an empty done file', async () => {
    expect((await errorBodyFor('')).error).toContain('done file is empty');
  });
});

describe('runWorker: delivery', () => {
  /** Starts an upload of `r.txt`; wrapped so awaiting this does not await the outcome. */
  async function uploadOnce(): Promise<{ done: Promise<WorkerOutcome> }> {
    const file = join(resultsDir, 'r.txt');
    await writeFile(file, 'r');
    await writeDone(file);
    const { done } = start(config());
    await passDelay();
    return { done };
  }

  it('retries 5xx and dropped connections with exponential backoff', async () => {
    recorder.answer({ status: 503 }, 'hang-up', { status: 500 }, { status: 200 });
    const { done } = await uploadOnce();
    for (const [n, delay] of [
      [1, 1_000],
      [2, 2_000],
      [3, 4_000],
    ] as const) {
      await recorder.waitForRequests(n);
      await settle(() => clock.pending === 1);
      expect(clock.pendingDelays()).toEqual([delay]);
      await clock.advance(delay);
    }
    expect(await done).toMatchObject({ status: 'uploaded', attempts: 4 });
    expect(recorder.requests.map((r) => r.body.toString())).toEqual(['r', 'r', 'r', 'r']);
  });

  it('gives up with FATHOM_UPLOAD_FAILED after the last attempt', async () => {
    const file = join(resultsDir, 'r.txt');
    await writeFile(file, 'r');
    await writeDone(file);
    const retry = { maxAttempts: 2, initialDelayMs: 1_000, maxDelayMs: 1_000 };
    recorder.answer({ status: 502 }, { status: 502 });
    const { done } = start(config(), { retry });
    await passDelay();
    await recorder.waitForRequests(1);
    await settle(() => clock.pending === 1);
    await clock.advance(1_000);
    const err: unknown = await done.catch((e: unknown) => e);
    expect(isFathomError(err, 'FATHOM_UPLOAD_FAILED')).toBe(true);
    expect((err as Error).message).toMatch(/after 2 attempts: HTTP 502/);
  });

  it('sends again after 408 (the aggregator cut off a stalled upload)', async () => {
    const file = join(resultsDir, 'r.txt');
    await writeFile(file, 'r');
    await writeDone(file);
    recorder.answer({ status: 408, body: 'upload of e2e/global sent nothing for 60s' });
    const { done } = start(config());
    await passDelay();
    await recorder.waitForRequests(1);
    await settle(() => clock.pending === 1);
    await clock.advance(1_000);
    expect(await done).toMatchObject({ status: 'uploaded', attempts: 2 });
  });

  it('treats 409 as already received', async () => {
    recorder.answer({ status: 409, body: 'result e2e/global already received' });
    expect(await (await uploadOnce()).done).toMatchObject({
      status: 'uploaded',
      alreadyReceived: true,
      attempts: 1,
    });
  });

  it('gives up at once on 403', async () => {
    recorder.answer({ status: 403, body: 'result e2e/global unexpected' });
    const err: unknown = await (await uploadOnce()).done.catch((e: unknown) => e);
    expect(isFathomError(err, 'FATHOM_UPLOAD_FAILED')).toBe(true);
    expect((err as Error).message).toContain('HTTP 403 result e2e/global unexpected');
    expect(recorder.requests).toHaveLength(1);
    expect(clock.pending).toBe(0);
  });

  it('trusts only CA_CERT', async () => {
    const other = await startMtlsRecorder({ plugin: 'e2e' });
    try {
      await writeFile(join(resultsDir, 'r.txt'), 'r');
      await writeDone('r.txt');
      // The client pair `other` accepts, but CA_CERT from `recorder`: other's server cert must fail.
      const cfg = config('global', {
        AGGREGATOR_URL: other.url,
        CLIENT_CERT: other.client.certPem,
        CLIENT_KEY: other.client.keyPem,
      });
      const retry = { maxAttempts: 1, initialDelayMs: 1, maxDelayMs: 1 };
      const { done } = start(cfg, { retry });
      await passDelay();
      const err: unknown = await done.catch((e: unknown) => e);
      expect(isFathomError(err, 'FATHOM_UPLOAD_FAILED')).toBe(true);
      expect(other.requests).toHaveLength(0);
    } finally {
      await other.close();
    }
  });
});

describe('runWorker: no done file', () => {
  class States implements ContainerStateSource {
    states: ContainerState[] | undefined = [{ name: 'plugin', terminated: false }];
    otherContainers(): Promise<ContainerState[] | undefined> {
      return Promise.resolve(this.states);
    }
  }

  it('archives the results dir once the other containers exited 0', async () => {
    await writeFile(join(resultsDir, 'a.txt'), 'A');
    const states = new States();
    const { done } = start(config(), {}, { containerStates: states });
    await elapse(10_000); // checks at 5 s and 10 s: still running
    expect(await readFile(join(resultsDir, 'done'), 'utf8').catch(() => 'none')).toBe('none');
    states.states = [{ name: 'plugin', terminated: true, exitCode: 0 }];
    await elapse(10_000); // 15 s: all done; 20 s: archive and write the done file
    await passDelay();
    const outcome = await done;
    const tarball = join(resultsDir, 'out.tar.gz');
    expect(outcome).toMatchObject({ status: 'uploaded', file: tarball, fallback: true });
    expect(await readFile(join(resultsDir, 'done'), 'utf8')).toBe(tarball);
    expect(tarNames(gunzipSync(recorder.requests[0]!.body))).toEqual(['a.txt']);
  });

  it("reports Sonobuoy's terminated-container error when the plugin exited 0 and wrote nothing", async () => {
    const states = new States();
    const { done } = start(config(), {}, { containerStates: states });
    await elapse(5_000);
    states.states = [
      { name: 'plugin', terminated: true, exitCode: 0, reason: 'Completed', message: 'bye' },
    ];
    await elapse(9_000); // 10 s: all done
    await clock.advance(1_000); // 15 s: still nothing written; no more sleeps after this
    const outcome = await done;
    const error =
      'Container plugin is in a terminated state (exit code 0) due to reason: Completed: bye';
    expect(outcome).toMatchObject({ status: 'error-reported', error, fallback: false });
    expect(recorder.requests).toHaveLength(1);
    expect(recorder.requests[0]!.headers['content-type']).toBe('application/json');
    expect(JSON.parse(recorder.requests[0]!.body.toString())).toEqual({ error });
    await expect(readFile(join(resultsDir, 'done'))).rejects.toThrow(/ENOENT/);
  });

  it('does not fall back while a container failed or the state is unknown', async () => {
    const states = new States();
    states.states = [{ name: 'plugin', terminated: true, exitCode: 1 }];
    const stop = new AbortController();
    const { done } = start(config(), {}, { containerStates: states, signal: stop.signal });
    await elapse(20_000);
    states.states = undefined;
    await elapse(20_000);
    stop.abort();
    expect(await done).toMatchObject({ status: 'aborted' });
    await expect(readFile(join(resultsDir, 'done'))).rejects.toThrow(/ENOENT/);
  });

  it('reads FATHOM_POD_STATUS_FILE when no source is injected', async () => {
    const statusFile = join(dir, 'pod.json');
    await writeFile(
      statusFile,
      JSON.stringify({
        containers: [
          { name: 'plugin', state: 'terminated', exitCode: 0 },
          { name: 'sonobuoy-worker', state: 'running' },
        ],
      }),
    );
    await writeFile(join(resultsDir, 'x.txt'), 'x');
    const { done } = start(config('global', { FATHOM_POD_STATUS_FILE: statusFile }));
    await elapse(10_000);
    await passDelay();
    expect(await done).toMatchObject({ fallback: true, status: 'uploaded' });
  });

  it("takes the reason and message from FATHOM_POD_STATUS_FILE for the plugin's error", async () => {
    const statusFile = join(dir, 'pod.json');
    await writeFile(
      statusFile,
      JSON.stringify({
        containers: [
          { name: 'plugin', state: 'terminated', exitCode: 0, reason: 'Completed', message: '' },
          { name: 'sonobuoy-worker', state: 'running' },
        ],
      }),
    );
    const { done } = start(config('global', { FATHOM_POD_STATUS_FILE: statusFile }));
    await elapse(9_000); // 5 s: all done
    await clock.advance(1_000); // 10 s: nothing written
    expect(await done).toMatchObject({
      status: 'error-reported',
      error: 'Container plugin is in a terminated state (exit code 0) due to reason: Completed: ',
    });
  });
});

describe('runWorker: exit-code verdict', () => {
  it('waits for the plugin to exit, even past a done file, and sends its exit code with the results', async () => {
    await writeFile(join(resultsDir, 'log.txt'), 'ran');
    await writeDone(join(resultsDir, 'log.txt')); // ignored in this mode
    let states: ContainerState[] = [{ name: 'plugin', terminated: false }];
    const source: ContainerStateSource = { otherContainers: () => Promise.resolve(states) };
    const { done, finished } = start(
      config('global', { FATHOM_EXIT_CODE_VERDICT: 'true' }),
      {},
      { containerStates: source },
    );
    await elapse(20_000);
    expect(finished()).toBe(false);
    states = [{ name: 'plugin', terminated: true, exitCode: 3 }];
    await clock.advance(5_000); // the next check sees it exited; nothing is waited on after that
    const outcome = await done;
    expect(outcome).toMatchObject({ status: 'uploaded', file: join(resultsDir, 'out.tar.gz') });
    expect(await readFile(join(resultsDir, 'fathom-exit-code'), 'utf8')).toBe('3\n');
    expect(tarNames(gunzipSync(recorder.requests[0]!.body)).sort()).toEqual([
      'done',
      'fathom-exit-code',
      'log.txt',
    ]);
  });

  it('refuses a bad flag value', () => {
    expect(() => config('global', { FATHOM_EXIT_CODE_VERDICT: 'yes' })).toThrow(
      /FATHOM_EXIT_CODE_VERDICT must be true or false/,
    );
  });
});

/** Entry names of an uncompressed tar, in order. */
function tarNames(tar: Buffer): string[] {
  const names: string[] = [];
  for (let off = 0; off + 512 <= tar.length;) {
    const header = tar.subarray(off, off + 512);
    if (header.every((b) => b === 0)) break;
    const name = header.subarray(0, 100).toString('utf8').replace(/\0.*$/s, '');
    const prefix = header.subarray(345, 500).toString('utf8').replace(/\0.*$/s, '');
    const size = parseInt(header.subarray(124, 136).toString('utf8').trim() || '0', 8);
    names.push(prefix ? `${prefix}/${name}` : name);
    off += 512 + Math.ceil(size / 512) * 512;
  }
  return names;
}
