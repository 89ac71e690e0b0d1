/**
 * Bench child: fathom's aggregator and its mTLS server alone in a process, so its peak RSS is
 * its own. argv[2] is a JSON file: { outputDir, plugin, nodes, tls }. Sends `ready` with the URL
 * and its RSS so far; on `{type: 'report'}` sends `report` (peak RSS, completion) and exits.
 */
import { systemClock } from '../../src/core/clock.js';
import { readFileSync } from 'node:fs';
import { createAggregator } from '../../src/aggregation/aggregator.js';
import { startAggregationServer } from '../../src/aggregation/server.js';

export interface AggregatorChildConfig {
  outputDir: string;
  plugin: string;
  /** Expected nodes (`global` for a Job). */
  nodes: string[];
  tls: { caPem: string; certPem: string; keyPem: string };
}

export type AggregatorChildMessage =
  | { type: 'ready'; url: string; rssKiB: number; maxRssKiB: number }
  | { type: 'report'; maxRssKiB: number; rssKiB: number; complete: boolean; pending: number }
  | { type: 'error'; message: string };

const send = (m: AggregatorChildMessage): void => void process.send?.(m);

async function main(): Promise<void> {
  const config = JSON.parse(readFileSync(process.argv[2]!, 'utf8')) as AggregatorChildConfig;
  const aggregator = createAggregator({
    clock: systemClock,
    outputDir: config.outputDir,
    expected: config.nodes.map((node) => ({ plugin: config.plugin, node })),
  });
  const server = await startAggregationServer({ aggregator, tls: config.tls });
  process.on('message', (m: { type?: string }) => {
    if (m.type !== 'report') return;
    send({
      type: 'report',
      maxRssKiB: process.resourceUsage().maxRSS,
      rssKiB: Math.round(process.memoryUsage.rss() / 1024),
      complete: aggregator.isComplete(),
      pending: aggregator.pending().length,
    });
    void server.close().finally(() => process.disconnect());
  });
  send({
    type: 'ready',
    url: server.url,
    rssKiB: Math.round(process.memoryUsage.rss() / 1024),
    maxRssKiB: process.resourceUsage().maxRSS,
  });
}

main().catch((err: unknown) => {
  send({ type: 'error', message: err instanceof Error ? (err.stack ?? err.message) : String(err) });
  process.exitCode = 1;
  process.disconnect();
});
