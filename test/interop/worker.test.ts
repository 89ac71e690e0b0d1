/**
 * Interop: Sonobuoy's own worker (`sonobuoy worker global|single-node`, a real child process)
 * and fathom's worker deliver the same results to fathom's aggregator, and put the same bytes
 * on the wire. The Sonobuoy half is skipped when the peer binary cannot be built (fails under CI).
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createAggregator } from '../../src/aggregation/aggregator.js';
import type { Aggregator } from '../../src/aggregation/aggregator.js';
import { startAggregationServer } from '../../src/aggregation/server.js';
import type { PluginStatusEntry } from '../../src/aggregation/types.js';
import { ManualClock } from '../../src/core/clock.js';
import { createRunCa } from '../../src/core/pki.js';
import type { RunCa } from '../../src/core/pki.js';
import { loadWorkerConfig } from '../../src/worker/config.js';
import type { WorkerMode } from '../../src/worker/config.js';
import { runWorker } from '../../src/worker/worker.js';
import type { WorkerOutcome } from '../../src/worker/worker.js';
import { sonobuoyBinary, sonobuoyUnavailableReason } from '../peers/sonobuoy.js';
import { settle, startMtlsRecorder } from './mtls-recorder.js';
import type { RecordedRequest } from './mtls-recorder.js';
import { available } from '../support/required.js';

type Impl = 'sonobuoy' | 'fathom';

interface WorkerSpec {
  mode: WorkerMode;
  plugin: string;
  node: string;
  /** Writes the plugin's output into the results dir and returns what goes in the done file. */
  produce(resultsDir: string): Promise<string>;
  progress: string;
}

/** A Job plugin that sends a directory (so the worker archives it) and a DaemonSet plugin that sends one file. */
const SPECS: readonly WorkerSpec[] = [
  {
    mode: 'global',
    plugin: 'e2e',
    node: 'global',
    progress: '{"msg":"halfway","total":4,"completed":2,"failures":["t3"]}',
    async produce(dir) {
      const out = join(dir, 'out');
      await mkdir(join(out, 'sub'), { recursive: true });
      await writeFile(
        join(out, 'junit_01.xml'),
        '<testsuites><testsuite name="e2e"/></testsuites>',
      );
      await writeFile(join(out, 'sub', 'notes.txt'), 'nested\n');
      return out;
    },
  },
  {
    mode: 'single-node',
    plugin: 'systemd-logs',
    node: 'node-1',
    progress: '{"msg":"collecting","total":1,"completed":0}',
    async produce(dir) {
      const file = join(dir, 'systemd_logs.json');
      await writeFile(file, '{"MESSAGE":"hello"}\n');
      return file;
    },
  },
];

const EXPECTED_TREE = {
  'plugins/e2e/results/global/junit_01.xml': '<testsuites><testsuite name="e2e"/></testsuites>',
  'plugins/e2e/results/global/sub/notes.txt': 'nested\n',
  'plugins/systemd-logs/results/node-1/systemd_logs.json': '{"MESSAGE":"hello"}\n',
};

const binary = await sonobuoyBinary();
available(
  binary !== undefined,
  `the Sonobuoy half of the worker interop test has no peer: ${sonobuoyUnavailableReason}`,
);

let scratch: string;
const children = new Set<ChildProcess>();
const cleanups: (() => Promise<void>)[] = [];

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'fathom-interop-worker-'));
  return () => rm(scratch, { recursive: true, force: true });
});

afterEach(async () => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  children.clear();
  for (const clean of cleanups.splice(0).reverse()) await clean();
});

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** The worker environment as Sonobuoy's pod spec sets it (reference section h). */
async function workerEnv(
  ca: RunCa,
  url: string,
  spec: WorkerSpec,
  resultsDir: string,
  progressPort: number,
): Promise<Record<string, string>> {
  const client = await ca.clientCert(spec.plugin);
  return {
    AGGREGATOR_URL: url,
    RESULT_TYPE: spec.plugin,
    NODE_NAME: spec.mode === 'global' ? 'control-plane' : spec.node,
    SONOBUOY_RESULTS_DIR: resultsDir,
    SONOBUOY_PROGRESS_PORT: String(progressPort),
    CA_CERT: ca.caPem,
    CLIENT_CERT: client.certPem,
    CLIENT_KEY: client.keyPem,
    SONOBUOY_DONE_FILE_DELAY: '0s',
  };
}

/** POSTs a progress update to a worker's relay, retrying only while it is not yet listening. */
async function postProgress(port: number, body: string): Promise<{ status: number; body: string }> {
  const once = (): Promise<{ status: number; body: string }> =>
    new Promise((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, method: 'POST', path: '/progress' }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }),
        );
      });
      req.on('error', reject);
      req.end(body);
    });
  const start = Date.now();
  for (;;) {
    try {
      return await once();
    } catch (err) {
      const refused = (err as NodeJS.ErrnoException).code === 'ECONNREFUSED';
      if (!refused || Date.now() - start > 15_000) throw err;
      await new Promise<void>((r) => setImmediate(r));
    }
  }
}

interface Running {
  /** Resolves with the relay port once it listens. */
  relayPort: Promise<number>;
  /** Resolves when the worker is done (process exit, or the in-process outcome). */
  finished: Promise<unknown>;
}

function startSonobuoy(spec: WorkerSpec, env: Record<string, string>): Running {
  const child = spawn(binary!, ['worker', spec.mode, '--level=info'], {
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: scratch, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  let log = '';
  const relayPort = new Promise<number>((resolve, reject) => {
    const onData = (chunk: Buffer): void => {
      log += chunk.toString();
      // Logged just before ListenAndServe; postProgress covers the remaining instant.
      if (log.includes('for progress updates')) resolve(Number(env.SONOBUOY_PROGRESS_PORT));
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('exit', () => reject(new Error(`sonobuoy exited before listening:\n${log}`)));
  });
  const finished = new Promise<number>((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (code) =>
      code === 0
        ? resolve(code)
        : reject(new Error(`sonobuoy ${spec.mode} exited ${code}:\n${log}`)),
    );
  });
  // A test that fails early leaves these unawaited; afterEach kills the process.
  relayPort.catch(() => {});
  finished.catch(() => {});
  return { relayPort, finished };
}

function startFathom(
  spec: WorkerSpec,
  env: Record<string, string>,
  clock: ManualClock,
  signal: AbortSignal,
): Running {
  let onPort: (port: number) => void = () => {};
  const relayPort = new Promise<number>((resolve) => (onPort = resolve));
  const finished: Promise<WorkerOutcome> = runWorker(
    loadWorkerConfig(spec.mode, { ...env, SONOBUOY_PROGRESS_PORT: '0' }),
    { clock, signal },
    { onRelayListening: (relay) => onPort(relay.port) },
  );
  finished.catch(() => {});
  return { relayPort, finished };
}

/** Every file below `root`, relative path → contents. */
async function tree(root: string): Promise<Record<string, string>> {
  const files: Record<string, string> = {};
  for (const entry of await readdir(root, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name);
    files[relative(root, path)] = await readFile(path, 'utf8');
  }
  return files;
}

interface ScenarioResult {
  tree: Record<string, string>;
  entries: PluginStatusEntry[];
  progressAnswers: { status: number; body: string }[];
}

/** Both plugins' workers of one implementation deliver to a fresh fathom aggregator. */
async function scenario(impl: Impl): Promise<ScenarioResult> {
  const base = await mkdtemp(join(scratch, `${impl}-`));
  const outputDir = join(base, 'aggregator');
  const ca = await createRunCa({ now: Date.now() });
  const serverPair = await ca.serverCert(['127.0.0.1']);
  // Aggregators with the same still clock stamp progress identically.
  const aggregator: Aggregator = createAggregator({
    outputDir,
    expected: SPECS.map((s) => ({ plugin: s.plugin, node: s.node })),
    clock: new ManualClock(),
  });
  const server = await startAggregationServer({
    aggregator,
    tls: { caPem: ca.caPem, certPem: serverPair.certPem, keyPem: serverPair.keyPem },
    host: '127.0.0.1',
    port: 0,
  });
  cleanups.push(() => server.close());
  const workerClock = new ManualClock();
  const stop = new AbortController();
  cleanups.push(() => Promise.resolve(stop.abort()));

  const runs = await Promise.all(
    SPECS.map(async (spec) => {
      const resultsDir = join(base, `results-${spec.plugin}`);
      await mkdir(resultsDir, { recursive: true });
      const env = await workerEnv(ca, server.url, spec, resultsDir, await freePort());
      const run =
        impl === 'sonobuoy'
          ? startSonobuoy(spec, env)
          : startFathom(spec, env, workerClock, stop.signal);
      return { spec, resultsDir, run };
    }),
  );

  const progressAnswers: { status: number; body: string }[] = [];
  for (const { spec, run } of runs) {
    progressAnswers.push(await postProgress(await run.relayPort, spec.progress));
  }
  for (const { spec, resultsDir } of runs) {
    await writeFile(join(resultsDir, 'done'), await spec.produce(resultsDir));
  }

  const complete = aggregator.whenComplete();
  if (impl === 'fathom') {
    // Drive fathom's workers' polls and (zero) done-file delays until the aggregator has it all.
    let done = false;
    void complete.then(() => (done = true));
    while (!done) {
      await settle(() => done || workerClock.pending > 0);
      if (!done) await workerClock.advance(workerClock.pendingDelays()[0]!);
    }
    stop.abort(); // the single-node worker stays alive until told to stop, as Sonobuoy's does
  } else {
    await complete;
  }
  await Promise.all(runs.map((r) => r.run.finished));
  return { tree: await tree(outputDir), entries: aggregator.entries(), progressAnswers };
}

function expectDelivered(result: ScenarioResult): void {
  expect(result.tree).toEqual(EXPECTED_TREE);
  expect(result.progressAnswers).toEqual([
    { status: 200, body: '' },
    { status: 200, body: '' },
  ]);
  expect(result.entries.map((e) => [e.plugin, e.node, e.status])).toEqual([
    ['e2e', 'global', 'complete'],
    ['systemd-logs', 'node-1', 'complete'],
  ]);
  expect(result.entries[0]!.progress).toMatchObject({
    name: 'e2e',
    node: 'global',
    msg: 'halfway',
    total: 4,
    completed: 2,
    failures: ['t3'],
  });
  expect(result.entries[1]!.progress).toMatchObject({
    name: 'systemd-logs',
    node: 'node-1',
    msg: 'collecting',
  });
}

describe('worker interop with fathom aggregator', () => {
  it('fathom worker: directory and file results, progress through the relay', async () => {
    expectDelivered(await scenario('fathom'));
  });

  it.skipIf(!binary)('Sonobuoy worker produces the same tree and status entries', async () => {
    const sonobuoy = await scenario('sonobuoy');
    expectDelivered(sonobuoy);
    const fathom = await scenario('fathom');
    expect(sonobuoy.tree).toEqual(fathom.tree);
    expect(sonobuoy.entries).toEqual(fathom.entries);
  });
});

/** Tar entry names (directories without their trailing slash), in order. */
function tarNames(tar: Buffer): string[] {
  const names: string[] = [];
  for (let off = 0; off + 512 <= tar.length;) {
    const header = tar.subarray(off, off + 512);
    if (header.every((b) => b === 0)) break;
    const name = header.subarray(0, 100).toString('utf8').replace(/\0.*$/s, '');
    const prefix = header.subarray(345, 500).toString('utf8').replace(/\0.*$/s, '');
    const size = parseInt(header.subarray(124, 136).toString('utf8').trim() || '0', 8);
    names.push((prefix ? `${prefix}/${name}` : name).replace(/\/$/, ''));
    off += 512 + Math.ceil(size / 512) * 512;
  }
  return names;
}

describe.skipIf(!binary)('worker wire format, Sonobuoy vs fathom', () => {
  /** What one worker implementation puts on the wire for one result and one progress update. */
  async function wire(
    impl: Impl,
    spec: WorkerSpec,
  ): Promise<{ result: RecordedRequest; progress: RecordedRequest }> {
    const recorder = await startMtlsRecorder({ plugin: spec.plugin });
    cleanups.push(() => recorder.close());
    const resultsDir = await mkdtemp(join(scratch, `wire-${impl}-`));
    const env = {
      ...(await workerEnv(recorder.ca, recorder.url, spec, resultsDir, await freePort())),
      CLIENT_CERT: recorder.client.certPem,
      CLIENT_KEY: recorder.client.keyPem,
    };
    const clock = new ManualClock();
    const stop = new AbortController();
    cleanups.push(() => Promise.resolve(stop.abort()));
    const run =
      impl === 'sonobuoy' ? startSonobuoy(spec, env) : startFathom(spec, env, clock, stop.signal);
    await postProgress(await run.relayPort, spec.progress);
    await writeFile(join(resultsDir, 'done'), await spec.produce(resultsDir));
    if (impl === 'fathom') {
      while (recorder.requests.length < 2) {
        await settle(() => recorder.requests.length >= 2 || clock.pending > 0);
        if (clock.pending > 0) await clock.advance(clock.pendingDelays()[0]!);
      }
      stop.abort();
    }
    const [progress, result] = await recorder.waitForRequests(2);
    await run.finished;
    return { result: result!, progress: progress! };
  }

  it.each(SPECS.map((s) => [s.mode, s] as const))('%s: same requests', async (_, spec) => {
    const sonobuoy = await wire('sonobuoy', spec);
    const fathom = await wire('fathom', spec);
    for (const w of [sonobuoy, fathom]) {
      expect(w.progress).toMatchObject({ method: 'POST', clientCn: spec.plugin });
      expect(w.progress.body.toString()).toBe(spec.progress);
      expect(w.result).toMatchObject({ method: 'PUT', clientCn: spec.plugin });
    }
    expect(fathom.progress.path).toBe(sonobuoy.progress.path);
    expect(fathom.progress.headers['content-type']).toBe(sonobuoy.progress.headers['content-type']);
    expect(fathom.result.path).toBe(sonobuoy.result.path);
    for (const header of ['content-type', 'content-disposition']) {
      expect([header, fathom.result.headers[header]]).toEqual([
        header,
        sonobuoy.result.headers[header],
      ]);
    }
    if (sonobuoy.result.headers['content-type'] === 'application/gzip') {
      // Archives differ in metadata (mtimes, owners); their entries must not.
      expect(tarNames(gunzipSync(fathom.result.body)).sort()).toEqual(
        tarNames(gunzipSync(sonobuoy.result.body)).sort(),
      );
    } else {
      expect(fathom.result.body.equals(sonobuoy.result.body)).toBe(true);
    }
  });
});
