/**
 * Bench child: fathom's offline status computation alone in a process, so its peak RSS is its
 * own, doing what the Go peer's `--bench` mode does. argv: <JSON lines file> <reps>. Reads every
 * object with `readManifests` (what `fathom health -f` uses), then computes all of them `reps`
 * times, and sends `done` with ns per object and its peak RSS.
 */
import { compute, readManifests, type KubeObject } from '../../src/status/index.js';

export type StatusChildMessage =
  | {
      type: 'done';
      objects: number;
      decodeNsPerObject: number;
      computeNsPerObject: number[];
      /** Objects per status over all reps ('error' for Unknown, as the Go peer counts). */
      counts: Record<string, number>;
      maxRssKiB: number;
    }
  | { type: 'error'; message: string };

const send = (m: StatusChildMessage): void => void process.send?.(m);

async function main(): Promise<void> {
  const [file, repsArg] = process.argv.slice(2) as [string, string];
  const reps = Number(repsArg);
  const t0 = process.hrtime.bigint();
  const objects: KubeObject[] = [];
  for await (const m of readManifests([file])) objects.push(m.object);
  const decodeNs = Number(process.hrtime.bigint() - t0);
  if (objects.length === 0) throw new Error(`no objects in ${file}`);

  const now = (): number => Date.now();
  const counts: Record<string, number> = {};
  const computeNsPerObject: number[] = [];
  for (let r = 0; r < reps; r++) {
    const t = process.hrtime.bigint();
    for (const o of objects) {
      const { status } = compute(o, { now });
      const key = status === 'Unknown' ? 'error' : status;
      counts[key] = (counts[key] ?? 0) + 1;
    }
    computeNsPerObject.push(Number(process.hrtime.bigint() - t) / objects.length);
  }
  send({
    type: 'done',
    objects: objects.length,
    decodeNsPerObject: decodeNs / objects.length,
    computeNsPerObject,
    counts,
    maxRssKiB: process.resourceUsage().maxRSS,
  });
  process.disconnect();
}

main().catch((err: unknown) => {
  send({ type: 'error', message: err instanceof Error ? (err.stack ?? err.message) : String(err) });
  process.exitCode = 1;
  process.disconnect();
});
