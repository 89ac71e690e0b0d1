/**
 * Bench child: fathom's post-processing of one plugin alone in a process, so its peak RSS is its
 * own. argv: <results root> <plugin name> <result format>. Processes
 * `<root>/plugins/<plugin>/results/global/*` as a Job plugin, writes sonobuoy_results.yaml,
 * and sends `done` with the times and its peak RSS.
 */
import { stat } from 'node:fs/promises';
import { leafCounts } from '../../src/results/item.js';
import { postProcessPlugin, writePluginResults } from '../../src/results/process.js';

export type ProcessChildMessage =
  | {
      type: 'done';
      processMs: number;
      writeMs: number;
      status: string;
      leaves: number;
      yamlBytes: number;
      startRssKiB: number;
      maxRssKiB: number;
      /** V8 heap in use after a full GC with the tree still held: what the result really keeps. */
      retainedHeapKiB?: number;
    }
  | { type: 'error'; message: string };

const send = (m: ProcessChildMessage): void => void process.send?.(m);

async function main(): Promise<void> {
  const [root, name, format] = process.argv.slice(2) as [string, string, string];
  const startRssKiB = process.resourceUsage().maxRSS;
  const plugin = { name, driver: 'Job', resultFormat: format, resultFiles: [] } as const;
  const t0 = performance.now();
  const item = await postProcessPlugin(root, plugin);
  const t1 = performance.now();
  const file = await writePluginResults(root, plugin, item);
  const t2 = performance.now();
  // Run with --expose-gc: collect the parse garbage to see what the tree itself holds. After a
  // macrotask, so the finished stream and parser frames are no longer reachable.
  const gc = (globalThis as { gc?: () => void }).gc;
  await new Promise((resolve) => setTimeout(resolve, 10));
  gc?.();
  const retainedHeapKiB = gc ? Math.round(process.memoryUsage().heapUsed / 1024) : undefined;
  const fileItem = item.items?.[0];
  if (fileItem?.meta?.error) throw new Error(`post-processing failed: ${fileItem.meta.error}`);
  send({
    type: 'done',
    processMs: t1 - t0,
    writeMs: t2 - t1,
    status: item.status,
    leaves: Object.values(leafCounts(item)).reduce((a, b) => a + b, 0),
    yamlBytes: (await stat(file)).size,
    startRssKiB,
    maxRssKiB: process.resourceUsage().maxRSS,
    ...(retainedHeapKiB === undefined ? {} : { retainedHeapKiB }),
  });
  process.disconnect();
}

main().catch((err: unknown) => {
  send({ type: 'error', message: err instanceof Error ? (err.stack ?? err.message) : String(err) });
  process.exitCode = 1;
  process.disconnect();
});
