/** What a run hands its plugins: certificates valid as long as the run's timeout says. */
import { X509Certificate } from 'node:crypto';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../core/clock.js';
import { parsePluginDocuments } from '../plugin/loader.js';
import type { ClusterNode } from '../core/nodes.js';
import type { ExpectedResult, PluginDefinition } from '../plugin/types.js';
import { createMtlsClient } from '../core/mtls-client.js';
import { runAggregation } from './run.js';
import type { LaunchContext, MonitorError, PluginRuntime } from './runtime.js';

const HOUR = 3_600_000;
const nodes: ClusterNode[] = [{ name: 'node-1', labels: {} }];

function job(name: string, order: number): PluginDefinition {
  const yaml = `sonobuoy-config: {driver: Job, plugin-name: ${name}, order: ${order}}\nspec: {name: plugin, image: x, command: [./run.sh]}\n`;
  return parsePluginDocuments(yaml, `${name}.yaml`).plugins[0]!;
}

/** Uploads each plugin's result at launch over real mutual TLS, keeping what it was given. */
class UploadingRuntime implements PluginRuntime {
  readonly contexts = new Map<string, LaunchContext>();

  listNodes(): Promise<ClusterNode[]> {
    return Promise.resolve(nodes);
  }

  adopt(p: PluginDefinition, ctx: LaunchContext): Promise<void> {
    return this.launch(p, ctx);
  }

  async launch(p: PluginDefinition, ctx: LaunchContext): Promise<void> {
    this.contexts.set(p.name, ctx);
    const client = createMtlsClient(ctx.aggregatorUrl, {
      caPem: ctx.caPem,
      certPem: ctx.clientCert.certPem,
      keyPem: ctx.clientCert.keyPem,
    });
    const res = await client.request({
      method: 'PUT',
      path: `/api/v1/results/global/${p.name}`,
      headers: { 'content-disposition': 'attachment;filename=out.txt' },
      body: 'ok',
    });
    expect(res.status).toBe(200);
  }

  async *monitor(
    _p: PluginDefinition,
    _e: readonly ExpectedResult[],
    signal: AbortSignal,
  ): AsyncIterable<MonitorError> {
    if (!signal.aborted) await once(signal, 'abort');
    yield* [] as MonitorError[]; // no problems to report
  }

  cleanup(): Promise<void> {
    return Promise.resolve();
  }
}

describe('runAggregation: certificate validity', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'fathom-run-certs-'));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it.each([
    { timeoutMs: 72 * HOUR, validForMs: 2 * 72 * HOUR + HOUR },
    { timeoutMs: 30_000, validForMs: 2 * 30_000 + HOUR },
    { timeoutMs: 0, validForMs: 24 * HOUR },
  ])('--timeout $timeoutMs ms over two order groups', async ({ timeoutMs, validForMs }) => {
    // Whole seconds, as certificates hold them; real TLS checks them against the real time.
    const clock = new ManualClock(Math.floor(Date.now() / 1000) * 1000);
    const runtime = new UploadingRuntime();
    await runAggregation({
      runtime,
      plugins: [job('first', 0), job('second', 1)],
      config: {
        uuid: 'u-1',
        namespace: 'ns',
        timeoutMs,
        bindHost: '127.0.0.1',
        bindPort: 0,
        advertiseHost: '127.0.0.1',
      },
      outputDir: join(dir, 'results'),
      clock,
      logger: pino({ level: 'silent' }),
      publish: () => Promise.resolve(),
      pack: () => Promise.resolve({ name: 'r', created: '', sha256: '', size: 0 }),
    });
    const validTo = (pem: string): number => Date.parse(new X509Certificate(pem).validTo);
    for (const name of ['first', 'second']) {
      const ctx = runtime.contexts.get(name)!;
      expect(validTo(ctx.clientCert.certPem)).toBe(clock.now() + validForMs);
      expect(validTo(ctx.caPem)).toBe(clock.now() + validForMs);
    }
  });
});
