/**
 * Issue 2 (b): the aggregator's ingest over real mutual TLS on loopback. The aggregator runs in
 * a child process (its peak RSS is its own); this process uploads with the worker's own client
 * (`createMtlsClient` + `putWithRetry`), one TLS connection per upload as workers do.
 */
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { systemClock } from '../../src/core/clock.js';
import { createRunCa, type KeyPair } from '../../src/core/pki.js';
import { silentLogger } from '../../src/worker/logger.js';
import { createMtlsClient, type MtlsClient } from '../../src/core/mtls-client.js';
import { putWithRetry, type RetryPolicy, type UploadBody } from '../../src/worker/upload.js';
import type { AggregatorChildConfig, AggregatorChildMessage } from '../children/aggregator.js';
import { forkChild, quantile } from '../lib/measure.js';
import { bytes, count, mbps, mib, ms, type Bench, type BenchResult } from '../lib/report.js';

const SMALL_COUNT = 1000;
const CONCURRENCY = 16;
const LARGE_SIZES = [128 * 1024 ** 2, 512 * 1024 ** 2, 1024 ** 3] as const;
const PLUGIN = 'bench';
/** One attempt: a failure must show, not hide behind a retry. */
const ONCE: RetryPolicy = { maxAttempts: 1, initialDelayMs: 0, maxDelayMs: 0 };

const CHILD = new URL('../children/aggregator.js', import.meta.url);

/** A body of `total` bytes of text made on the fly, so the sender reads no disk. */
class PatternBody extends Readable {
  static readonly #chunk = Buffer.from(
    Array.from(
      { length: 16384 },
      (_, i) => `line ${String(i).padStart(5, '0')} of a large result.\n`,
    )
      .join('')
      .slice(0, 1024 * 1024),
  );
  #left: number;
  sent = 0;
  constructor(total: number) {
    super({ highWaterMark: 1024 * 1024 });
    this.#left = total;
  }
  override _read(): void {
    if (this.#left <= 0) return void this.push(null);
    const n = Math.min(this.#left, PatternBody.#chunk.length);
    this.#left -= n;
    this.sent += n;
    this.push(PatternBody.#chunk.subarray(0, n));
  }
}

interface Session {
  client: MtlsClient;
  report(): Promise<Extract<AggregatorChildMessage, { type: 'report' }>>;
  ready: Extract<AggregatorChildMessage, { type: 'ready' }>;
  pid: number;
  outputDir: string;
}

async function startAggregator(
  dir: string,
  nodes: string[],
  server: KeyPair,
  client: KeyPair,
  caPem: string,
): Promise<Session> {
  const outputDir = await mkdtemp(join(dir, 'out-'));
  const configFile = join(dir, 'aggregator.json');
  const config: AggregatorChildConfig = {
    outputDir,
    plugin: PLUGIN,
    nodes,
    tls: { caPem, ...server },
  };
  await writeFile(configFile, JSON.stringify(config));
  const child = forkChild<AggregatorChildMessage>(CHILD, [configFile]);
  const ready = await child.next<Extract<AggregatorChildMessage, { type: 'ready' }>>('ready');
  return {
    ready,
    pid: child.process.pid!,
    outputDir,
    client: createMtlsClient(ready.url, { caPem, ...client }),
    report: async () => {
      const r = child.next<Extract<AggregatorChildMessage, { type: 'report' }>>('report');
      child.send({ type: 'report' });
      const report = await r;
      await child.exited();
      return report;
    },
  };
}

/** Current RSS of a live process (KiB), for the profile kept in results.json. */
function vmRssKiB(pid: number): Promise<number | undefined> {
  return readFile(`/proc/${pid}/status`, 'utf8')
    .then((s) => Number(/^VmRSS:\s+(\d+) kB/m.exec(s)?.[1]))
    .catch(() => undefined);
}

const deps = { clock: systemClock, logger: silentLogger };

export const ingestBench: Bench = {
  name: 'ingest',
  description:
    'aggregator ingest over mTLS: 1,000 small results, and one 128 MiB / 512 MiB / 1 GiB result',
  async run(log): Promise<BenchResult> {
    const dir = await mkdtemp(join(tmpdir(), 'fathom-bench-ingest-'));
    try {
      const ca = await createRunCa({ now: Date.now() });
      const serverPair = await ca.serverCert(['127.0.0.1']);
      const clientPair = await ca.clientCert(PLUGIN);

      // 1,000 small results from 1,000 "nodes", 16 uploads in flight.
      const nodes = Array.from(
        { length: SMALL_COUNT },
        (_, i) => `node-${String(i + 1).padStart(4, '0')}`,
      );
      const small = await startAggregator(dir, nodes, serverPair, clientPair, ca.caPem);
      const xml = Buffer.from(
        `<?xml version="1.0" encoding="UTF-8"?>\n<testsuites><testsuite name="bench" tests="8">${Array.from(
          { length: 8 },
          (_, i) =>
            `<testcase name="case ${i} of a small result" classname="bench" time="0.01"></testcase>`,
        ).join('')}</testsuite></testsuites>\n`,
      );
      const body: UploadBody = {
        open: () => xml,
        size: xml.length,
        contentType: 'text/xml; charset=utf-8',
        disposition: 'attachment;filename=junit_01.xml',
      };
      log(`ingest: ${SMALL_COUNT} small uploads (${xml.length} B), ${CONCURRENCY} at a time`);
      const latencies: number[] = [];
      let next = 0;
      const started = performance.now();
      await Promise.all(
        Array.from({ length: CONCURRENCY }, async () => {
          while (next < nodes.length) {
            const node = nodes[next++]!;
            const t = performance.now();
            await putWithRetry(
              small.client,
              `/api/v1/results/by-node/${node}/${PLUGIN}`,
              body,
              deps,
              ONCE,
            );
            latencies.push(performance.now() - t);
          }
        }),
      );
      const smallWall = performance.now() - started;
      const smallReport = await small.report();
      const stored = (await readdir(join(small.outputDir, 'plugins', PLUGIN, 'results'))).length;
      if (!smallReport.complete || stored !== SMALL_COUNT) {
        throw new Error(
          `ingest: ${stored} of ${SMALL_COUNT} results stored, ${smallReport.pending} pending`,
        );
      }
      await rm(small.outputDir, { recursive: true, force: true });
      const perSecond = SMALL_COUNT / (smallWall / 1000);
      log(`ingest: ${perSecond.toFixed(0)} uploads/s`);

      // One large result at a time, each in a fresh aggregator so each peak is its own.
      const large: {
        size: number;
        wallMs: number;
        baselineRssKiB: number;
        maxRssKiB: number;
        samples: { sent: number; rssKiB: number }[];
      }[] = [];
      for (const size of LARGE_SIZES) {
        const s = await startAggregator(dir, ['global'], serverPair, clientPair, ca.caPem);
        const stream = new PatternBody(size);
        const samples: { sent: number; rssKiB: number }[] = [];
        const sampler = setInterval(() => {
          void vmRssKiB(s.pid).then(
            (rss) => rss && samples.push({ sent: stream.sent, rssKiB: rss }),
          );
        }, 100);
        const t = performance.now();
        await putWithRetry(
          s.client,
          `/api/v1/results/global/${PLUGIN}`,
          {
            open: () => stream,
            size,
            contentType: 'text/x-log; charset=utf-8',
            disposition: 'attachment;filename=e2e.log',
          },
          deps,
          ONCE,
        );
        const wallMs = performance.now() - t;
        clearInterval(sampler);
        const report = await s.report();
        const file = join(s.outputDir, 'plugins', PLUGIN, 'results', 'global', 'e2e.log');
        const written = (await stat(file)).size;
        await rm(s.outputDir, { recursive: true, force: true });
        if (written !== size) throw new Error(`ingest: stored ${written} bytes of ${size}`);
        large.push({
          size,
          wallMs,
          baselineRssKiB: s.ready.maxRssKiB,
          maxRssKiB: report.maxRssKiB,
          samples,
        });
        log(
          `ingest: ${bytes(size)} in ${ms(wallMs)} (${mbps(size, wallMs)}), peak RSS ${mib(report.maxRssKiB)}`,
        );
      }

      return {
        data: {
          small: {
            count: SMALL_COUNT,
            bodyBytes: xml.length,
            concurrency: CONCURRENCY,
            wallMs: smallWall,
            uploadsPerSecond: perSecond,
            latencyMs: { p50: quantile(latencies, 0.5), p99: quantile(latencies, 0.99) },
            aggregatorStartRssKiB: small.ready.maxRssKiB,
            aggregatorPeakRssKiB: smallReport.maxRssKiB,
          },
          large: large.map((l) => ({ ...l, mbPerSecond: l.size / 1e6 / (l.wallMs / 1000) })),
        },
        tables: [
          {
            title: 'Aggregator ingest over mutual TLS (loopback, aggregator in its own process)',
            columns: [
              'upload',
              'wall',
              'throughput',
              'aggregator RSS at start',
              'aggregator peak RSS',
            ],
            rows: [
              [
                `${count(SMALL_COUNT)} × ${bytes(xml.length)} results, ${CONCURRENCY} concurrent`,
                ms(smallWall),
                `${perSecond.toFixed(0)} uploads/s (p50 ${ms(quantile(latencies, 0.5))}, p99 ${ms(quantile(latencies, 0.99))})`,
                mib(small.ready.maxRssKiB),
                mib(smallReport.maxRssKiB),
              ],
              ...large.map((l) => [
                `1 × ${bytes(l.size)} result`,
                ms(l.wallMs),
                mbps(l.size, l.wallMs),
                mib(l.baselineRssKiB),
                mib(l.maxRssKiB),
              ]),
            ],
            notes: [
              "Uploads use the worker's own client (`createMtlsClient` + `putWithRetry`), a new TLS connection each, as workers do; " +
                'large bodies are generated on the fly (no disk read on the sending side) and written to disk by the aggregator. ' +
                'Peak RSS is the child’s getrusage maxRSS; a fresh aggregator process per large result.',
            ],
          },
        ],
      };
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  },
};
