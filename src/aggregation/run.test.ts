import { EventEmitter, once } from 'node:events';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { flushMicrotasks, ManualClock } from '../core/clock.js';
import { parsePluginDocuments } from '../plugin/loader.js';
import type { ClusterNode } from '../core/nodes.js';
import type { ExpectedResult, PluginDefinition } from '../plugin/types.js';
import { createMtlsClient } from '../core/mtls-client.js';
import { orderGroups, runAggregation, type RunAggregationOptions } from './run.js';
import type { LaunchContext, MonitorError, PluginRuntime } from './runtime.js';
import { TIMEOUT_ERROR_MESSAGE, type RunStatus } from './types.js';

const nodes: ClusterNode[] = ['node-1', 'node-2'].map((name) => ({
  name,
  labels: { 'kubernetes.io/os': 'linux' },
}));

function plugin(name: string, driver: 'Job' | 'DaemonSet', order = 0): PluginDefinition {
  const yaml = `sonobuoy-config: {driver: ${driver}, plugin-name: ${name}, order: ${order}}\nspec: {name: plugin, image: x, command: [./run.sh]}\n`;
  return parsePluginDocuments(yaml, `${name}.yaml`).plugins[0]!;
}

type Behaviour = 'upload' | 'silent' | 'launch-fails' | 'monitor-error';

/**
 * A runtime whose "pods" live in this process: on launch they upload over real mutual TLS with
 * the plugin's certificate, or stay silent, or fail, as each test needs.
 */
class InProcessRuntime implements PluginRuntime {
  readonly launched: string[] = [];
  readonly adopted: string[] = [];
  readonly urls: string[] = [];
  readonly events = new EventEmitter();
  readonly cleaned: string[] = [];
  readonly #monitorErrors = new Map<string, MonitorError[]>();

  constructor(private readonly behaviour: Record<string, Behaviour>) {}

  listNodes(): Promise<ClusterNode[]> {
    return Promise.resolve(nodes);
  }

  async adopt(p: PluginDefinition, ctx: LaunchContext): Promise<void> {
    this.adopted.push(p.name);
    await this.#start(p, ctx);
  }

  async launch(p: PluginDefinition, ctx: LaunchContext): Promise<void> {
    this.launched.push(p.name);
    await this.#start(p, ctx);
  }

  async #start(p: PluginDefinition, ctx: LaunchContext): Promise<void> {
    this.urls.push(ctx.aggregatorUrl);
    this.events.emit('launch', p.name);
    const behaviour = this.behaviour[p.name];
    if (behaviour === 'launch-fails') throw new Error('quota exceeded');
    if (behaviour === 'monitor-error') {
      this.#monitorErrors.set(p.name, [
        { node: 'global', error: "Can't schedule pod: no nodes", details: { pod: 'p' } },
      ]);
    }
    if (behaviour !== 'upload') return;
    const client = createMtlsClient(ctx.aggregatorUrl, {
      caPem: ctx.caPem,
      certPem: ctx.clientCert.certPem,
      keyPem: ctx.clientCert.keyPem,
    });
    const targets =
      p.driver === 'Job'
        ? ['global/' + p.name]
        : ctx.nodes.map((n) => `by-node/${n.name}/${p.name}`);
    for (const t of targets) {
      const res = await client.request({
        method: 'PUT',
        path: `/api/v1/results/${t}`,
        headers: {
          'content-type': 'text/plain',
          'content-disposition': 'attachment;filename=out.txt',
        },
        body: `result of ${t}`,
      });
      expect(res.status).toBe(200);
    }
  }

  async *monitor(
    p: PluginDefinition,
    _e: readonly ExpectedResult[],
    signal: AbortSignal,
  ): AsyncIterable<MonitorError> {
    for (const e of this.#monitorErrors.get(p.name) ?? []) yield e;
    if (!signal.aborted) await once(signal, 'abort');
  }

  cleanup(p: PluginDefinition): Promise<void> {
    this.cleaned.push(p.name);
    return Promise.resolve();
  }
}

describe('runAggregation', () => {
  let dir: string;
  let clock: ManualClock;
  let published: RunStatus[];
  let statuses: EventEmitter;

  /** Resolves with the first published status that satisfies `test`. */
  async function statusWhere(test: (s: RunStatus) => boolean): Promise<RunStatus> {
    for (;;) {
      const hit = published.find(test);
      if (hit) return hit;
      await once(statuses, 'status');
    }
  }

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'fathom-run-'));
    // Real TLS checks certificate dates against the real time, so start the clock at now.
    clock = new ManualClock(Date.now());
    published = [];
    statuses = new EventEmitter();
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  function options(
    runtime: PluginRuntime,
    plugins: PluginDefinition[],
    timeoutMs = 0,
  ): RunAggregationOptions {
    return {
      runtime,
      plugins,
      config: {
        uuid: 'u-1',
        namespace: 'ns',
        timeoutMs,
        bindHost: '127.0.0.1',
        bindPort: 0,
        advertiseHost: '127.0.0.1',
        workerImage: 'fathom:test',
        imagePullPolicy: 'Never',
      },
      outputDir: join(dir, 'results'),
      clock,
      statusIntervalMs: 0, // these tests wait for snapshots without moving the clock
      logger: pino({ level: process.env.RUN_TEST_LOG ?? 'silent' }),
      publish: (s) => {
        published.push(structuredClone(s));
        statuses.emit('status');
        return Promise.resolve();
      },
      postProcess: (_root, p) =>
        Promise.resolve((node) => ({ status: `verdict-${p.name}-${node}`, counts: { passed: 1 } })),
      pack: () =>
        Promise.resolve({
          name: 'r.tar.gz',
          created: '2026-01-01T00:00:00Z',
          sha256: 'abc',
          size: 3,
        }),
    };
  }

  it('gathers a Job and a DaemonSet over mutual TLS, post-processes and packs', async () => {
    const runtime = new InProcessRuntime({ job: 'upload', ds: 'upload' });
    const outcome = await runAggregation({
      ...options(runtime, [plugin('job', 'Job'), plugin('ds', 'DaemonSet')]),
      statusIntervalMs: 60_000, // the clock never moves: only the first and the flushed ones go out
    });
    expect(outcome.status.status).toBe('complete');
    expect(outcome.status['tar-info'].name).toBe('r.tar.gz');
    expect(
      outcome.status.plugins.map((e) => [e.plugin, e.node, e.status, e['result-status']]),
    ).toEqual([
      ['job', 'global', 'complete', 'verdict-job-global'],
      ['ds', 'node-1', 'complete', 'verdict-ds-node-1'],
      ['ds', 'node-2', 'complete', 'verdict-ds-node-2'],
    ]);
    expect(await readFile(join(dir, 'results/plugins/ds/results/node-2/out.txt'), 'utf8')).toBe(
      'result of by-node/node-2/ds',
    );
    expect(JSON.parse(await readFile(join(dir, 'results/meta/info.json'), 'utf8'))).toEqual({
      plugins: ['job', 'ds'],
    });
    const definition = JSON.parse(
      await readFile(join(dir, 'results/plugins/ds/definition.json'), 'utf8'),
    ) as { SessionID: string; SonobuoyImage: string; ImagePullPolicy: string };
    expect(definition).toMatchObject({
      SessionID: 'u-1',
      SonobuoyImage: 'fathom:test',
      ImagePullPolicy: 'Never',
    });
    // Phases reach the status reader in order.
    const phases = published.map((s) => s.status).filter((p, i, all) => p !== all[i - 1]);
    expect(phases).toEqual(['running', 'post-processing', 'complete']);
    expect(published).toHaveLength(3); // the uploads' changes were coalesced into the flushes
    expect(runtime.cleaned.sort()).toEqual(['ds', 'job']);
  });

  it('runs beforeCleanup once every result is in, before the plugins are cleaned up', async () => {
    const runtime = new InProcessRuntime({ job: 'upload' });
    const seen: string[][] = [];
    const outcome = await runAggregation({
      ...options(runtime, [plugin('job', 'Job')]),
      config: { ...options(runtime, []).config, snapshotConfig: { Resources: ['pods'] } },
      beforeCleanup: (root) => {
        expect(root).toBe(join(dir, 'results'));
        seen.push([...runtime.cleaned]);
        return Promise.reject(new Error('a snapshot step that fails does not fail the run'));
      },
    });
    expect(outcome.status.status).toBe('complete');
    expect(seen).toEqual([[]]); // called once, with nothing cleaned up yet
    expect(runtime.cleaned).toEqual(['job']);
    // The snapshot's keys in Sonobuoy's config.json.
    const config = JSON.parse(await readFile(join(dir, 'results/meta/config.json'), 'utf8')) as {
      Resources: string[];
    };
    expect(config.Resources).toEqual(['pods']);
  });

  it('turns launch failures, Monitor errors and timeouts into error results', async () => {
    const runtime = new InProcessRuntime({
      ok: 'upload',
      broken: 'launch-fails',
      stuck: 'monitor-error',
      quiet: 'silent',
    });
    const plugins = [
      plugin('ok', 'Job'),
      plugin('broken', 'DaemonSet'),
      plugin('stuck', 'Job'),
      plugin('quiet', 'DaemonSet'),
    ];
    const running = runAggregation(options(runtime, plugins, 60_000));
    // Everything but the silent plugin settles without time passing.
    const before = await statusWhere(
      (s) => s.plugins.filter((e) => e.status !== 'running').length === 4,
    );
    expect(before.plugins.filter((e) => e.status === 'running').map((e) => e.plugin)).toEqual([
      'quiet',
      'quiet',
    ]);
    expect(clock.pendingDelays()).toContain(60_000);
    await clock.advance(60_000);
    const outcome = await running;
    const byKey = Object.fromEntries(
      outcome.status.plugins.map((e) => [`${e.plugin}/${e.node}`, e.status]),
    );
    expect(byKey).toEqual({
      'ok/global': 'complete',
      'broken/node-1': 'failed',
      'broken/node-2': 'failed',
      'stuck/global': 'failed',
      'quiet/node-1': 'failed',
      'quiet/node-2': 'failed',
    });
    const error = async (p: string, node: string): Promise<Record<string, unknown>> =>
      JSON.parse(
        await readFile(join(dir, `results/plugins/${p}/errors/${node}/error.json`), 'utf8'),
      ) as Record<string, unknown>;
    expect(await error('broken', 'node-2')).toEqual({
      error: 'Failed to launch plugin broken: quota exceeded',
    });
    expect(await error('stuck', 'global')).toEqual({
      error: "Can't schedule pod: no nodes",
      pod: 'p',
    });
    expect(await error('quiet', 'node-1')).toEqual({ error: TIMEOUT_ERROR_MESSAGE });
  });

  it('starts a higher order group only when the lower one has all its results', async () => {
    const runtime = new InProcessRuntime({ first: 'silent', second: 'upload' });
    const launched = once(runtime.events, 'launch');
    const running = runAggregation(
      options(runtime, [plugin('second', 'Job', 1), plugin('first', 'Job', 0)], 1000),
    );
    await launched;
    for (let i = 0; i < 100 && clock.pending === 0; i++) await flushMicrotasks();
    expect(clock.pendingDelays()).toEqual([1000]); // `first` waits for its timeout
    expect(runtime.launched).toEqual(['first']);
    await clock.advance(1000); // `first` times out, which completes its group
    const outcome = await running;
    expect(runtime.launched).toEqual(['first', 'second']);
    expect(outcome.status.plugins.map((e) => e.status)).toEqual(['complete', 'failed']);
  });

  it('stops, cleans up and rejects when aborted', async () => {
    const runtime = new InProcessRuntime({ quiet: 'silent' });
    const ac = new AbortController();
    const launched = once(runtime.events, 'launch');
    const running = runAggregation({
      ...options(runtime, [plugin('quiet', 'Job')]),
      signal: ac.signal,
    });
    await launched;
    ac.abort(new Error('deleted'));
    await expect(running).rejects.toThrow('deleted');
    expect(runtime.cleaned).toEqual(['quiet']);
  });

  it('resumes from its journal: accepted results kept, launched plugins adopted, same port, same deadlines', async () => {
    const journalFile = join(dir, 'journal.jsonl');
    const plugins = [plugin('ok', 'Job'), plugin('quiet', 'DaemonSet')];
    const first = new InProcessRuntime({ ok: 'upload', quiet: 'silent' });
    const ac = new AbortController();
    const running = runAggregation({
      ...options(first, plugins, 60_000),
      journalFile,
      signal: ac.signal,
    });
    await statusWhere((s) => s.plugins.some((e) => e.plugin === 'ok' && e.status === 'complete'));
    await clock.advance(20_000);
    ac.abort(new Error('aggregator killed'));
    await expect(running).rejects.toThrow('aggregator killed');

    const second = new InProcessRuntime({ ok: 'silent', quiet: 'upload' });
    published = [];
    const resumed = runAggregation({ ...options(second, plugins, 60_000), journalFile });
    const outcome = await resumed;
    expect(second.launched).toEqual([]);
    // Both were launched before the crash: adopted (for monitoring and cleanup), never relaunched.
    expect(second.adopted.sort()).toEqual(['ok', 'quiet']);
    expect(new Set(second.urls)).toEqual(new Set(first.urls));
    expect(outcome.status.plugins.map((e) => [e.plugin, e.node, e.status])).toEqual([
      ['ok', 'global', 'complete'],
      ['quiet', 'node-1', 'complete'],
      ['quiet', 'node-2', 'complete'],
    ]);
    // A result accepted before the crash is still on disk, not uploaded again.
    expect(await readFile(join(dir, 'results/plugins/ok/results/global/out.txt'), 'utf8')).toBe(
      'result of global/ok',
    );
  });

  it('keeps a resumed plugin timeout deadline from its first launch', async () => {
    const journalFile = join(dir, 'journal.jsonl');
    const plugins = [plugin('quiet', 'Job')];
    const ac = new AbortController();
    const running = runAggregation({
      ...options(new InProcessRuntime({ quiet: 'silent' }), plugins, 60_000),
      journalFile,
      signal: ac.signal,
    });
    await clock.whenSleeping(1); // the plugin's timeout
    expect(clock.pendingDelays()).toEqual([60_000]);
    await clock.advance(45_000);
    ac.abort(new Error('aggregator killed'));
    await expect(running).rejects.toThrow('aggregator killed');

    const resumed = runAggregation({
      ...options(new InProcessRuntime({ quiet: 'silent' }), plugins, 60_000),
      journalFile,
    });
    await clock.whenSleeping(1);
    expect(clock.pendingDelays()).toEqual([15_000]);
    await clock.advance(15_000);
    const outcome = await resumed;
    expect(outcome.status.plugins.map((e) => e.status)).toEqual(['failed']);
  });

  it('orders groups by order, then by name', () => {
    const groups = orderGroups([
      plugin('b', 'Job', 2),
      plugin('z', 'Job'),
      plugin('a', 'Job'),
      plugin('c', 'Job', 2),
    ]);
    expect(groups.map((g) => g.map((p) => p.name))).toEqual([
      ['a', 'z'],
      ['b', 'c'],
    ]);
  });
});
