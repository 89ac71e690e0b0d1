/**
 * Issue 5: status computation, side by side with the Go original.
 * (a) Offline: 100,000 generated objects as JSON lines, decoded and computed by fathom (a bench
 *     child: `readManifests` + `compute`) and by kstatus (test/peers/kstatus, `--bench`), runs
 *     interleaved; objects per second, the fathom/kstatus time ratio and peak RSS. First both
 *     compute every object once and the bench FAILS if any status, message or condition differs.
 * (b) `fathom health -f` on 10,000 and 100,000 of those objects: the table vs `-o json` (status-cli.ts).
 * (c) Polling: API requests per cycle for 1,000 objects, caching vs direct reader (status-polling.ts).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compute, type KubeObject } from '../../src/status/index.js';
import { compareWithGo, formatDifference } from '../../test/differential/kstatus-compare.js';
import type { GeneratedObject } from '../../test/differential/kstatus-gen.js';
import { generateObjects, seededRandom } from '../../test/differential/kstatus-gen.js';
import {
  benchPeer,
  computeLinesWithPeer,
  kstatusPeerBinary,
  kstatusPeerUnavailableReason,
  toGoJson,
  type PeerBench,
} from '../../test/peers/kstatus.js';
import type { StatusChildMessage } from '../children/status.js';
import { forkChild, stats } from '../lib/measure.js';
import { bytes, count, mib, type Bench, type BenchResult, type Table } from '../lib/report.js';
import { healthCliFigures } from './status-cli.js';
import { CYCLES, NAMESPACES, pollingFigures } from './status-polling.js';

const OBJECTS = 100_000;
const SEED = 2026;
/** Rounds of (kstatus, fathom), each decoding once and computing REPS times. */
const ROUNDS = 3;
const REPS = 5;
const CHILD = new URL('../children/status.js', import.meta.url);

type Done = Extract<StatusChildMessage, { type: 'done' }>;

const isObj = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v);

/** Metadata an object read from a cluster carries (none of it changes a status). */
function withClusterMetadata(o: KubeObject, i: number): KubeObject {
  if (!isObj(o.metadata)) return o;
  const labels = isObj(o.metadata.labels) ? o.metadata.labels : {};
  o.metadata = {
    ...o.metadata,
    uid: `00000000-0000-4000-8000-${i.toString(16).padStart(12, '0')}`,
    resourceVersion: String(1_000_000 + i),
    labels: {
      'app.kubernetes.io/name': `app-${i % 97}`,
      'app.kubernetes.io/part-of': 'bench',
      ...labels,
    },
    annotations: {
      'deployment.kubernetes.io/revision': '3',
      'kubectl.kubernetes.io/last-applied-configuration': `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"app-${i}"}}`,
    },
    ownerReferences: [
      {
        apiVersion: 'apps/v1',
        kind: 'ReplicaSet',
        name: `owner-${i}`,
        uid: `uid-${i}`,
        controller: true,
      },
    ],
  };
  return o;
}

/**
 * The corpus: generated objects as JSON lines, each with what JSON.parse (`fathom health -f`)
 * reads back from its line. Left out: objects `fathom health` rejects (apiVersion or kind not a
 * string), objects with a deliberate difference, and lines JSON.parse cannot read exactly
 * (integers beyond 2^53, which it rounds).
 */
function corpus(): {
  lines: string[];
  objects: GeneratedObject[];
  skipped: { untyped: number; deliberate: number; inexact: number };
} {
  const lines: string[] = [];
  const objects: GeneratedObject[] = [];
  const random = seededRandom(SEED);
  const skipped = { untyped: 0, deliberate: 0, inexact: 0 };
  while (lines.length < OBJECTS) {
    for (const g of generateObjects(random, 10_000)) {
      if (lines.length >= OBJECTS) break;
      const o = g.object;
      if (
        typeof o.apiVersion !== 'string' ||
        o.apiVersion === '' ||
        typeof o.kind !== 'string' ||
        o.kind === ''
      ) {
        skipped.untyped++;
        continue;
      }
      if (g.deliberate.length > 0) {
        skipped.deliberate++;
        continue;
      }
      const line = toGoJson(withClusterMetadata(o, lines.length));
      const read = JSON.parse(line) as KubeObject;
      if (toGoJson(read) !== line) {
        skipped.inexact++;
        continue;
      }
      lines.push(line);
      objects.push({ ...g, object: read });
    }
  }
  return { lines, objects, skipped };
}

async function fathomRound(file: string): Promise<Done> {
  const child = forkChild<StatusChildMessage>(CHILD, [file, String(REPS)]);
  const done = await child.next<Done>('done');
  await child.exited();
  return done;
}

const ns = (n: number): string =>
  n >= 1000 ? `${(n / 1000).toFixed(2)} µs` : `${n.toFixed(0)} ns`;
const perSecond = (nsPerObject: number): string => `${count(Math.round(1e9 / nsPerObject))}/s`;
const ratio = (a: number, b: number): string => `${(a / b).toFixed(2)}×`;

async function offline(
  binary: string,
  log: (line: string) => void,
  { lines, objects, skipped }: ReturnType<typeof corpus>,
): Promise<{ data: Record<string, unknown>; table: Table }> {
  const dir = await mkdtemp(join(tmpdir(), 'fathom-bench-status-'));
  try {
    const file = join(dir, 'objects.jsonl');
    await writeFile(file, `${lines.join('\n')}\n`);
    const fileBytes = lines.reduce((s, l) => s + l.length + 1, 0);

    // Correctness first: the figures compare nothing if the verdicts differ.
    const go = await computeLinesWithPeer(binary, lines);
    const cmp = compareWithGo(objects, go);
    if (cmp.differences.length > 0) {
      const first = cmp.differences.slice(0, 5).map((d) => formatDifference(d, SEED));
      throw new Error(
        `${cmp.differences.length} of ${count(cmp.compared)} objects differ between fathom and kstatus:\n${first.join('\n')}`,
      );
    }
    const statuses: Record<string, number> = {};
    for (const g of objects) {
      const s = compute(g.object).status;
      statuses[s] = (statuses[s] ?? 0) + 1;
    }
    log(`identical verdicts for all ${count(cmp.compared)} objects: ${JSON.stringify(statuses)}`);

    const goRuns: PeerBench[] = [];
    const fathomRuns: Done[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      goRuns.push(await benchPeer(binary, lines, REPS));
      fathomRuns.push(await fathomRound(file));
      log(
        `round ${r + 1}: compute kstatus ${ns(stats(goRuns.at(-1)!.computeNsPerObject).median)}, fathom ${ns(stats(fathomRuns.at(-1)!.computeNsPerObject).median)} per object`,
      );
    }
    for (const [name, runs] of [
      ['kstatus', goRuns],
      ['fathom', fathomRuns],
    ] as const) {
      for (const run of runs) {
        if (run.objects !== OBJECTS)
          throw new Error(`${name} read ${run.objects} objects, not ${OBJECTS}`);
        const want = JSON.stringify(Object.entries(goRuns[0]!.counts).sort());
        if (JSON.stringify(Object.entries(run.counts).sort()) !== want) {
          throw new Error(`${name} counted ${JSON.stringify(run.counts)}, kstatus ${want}`);
        }
      }
    }
    const figures = (runs: readonly (PeerBench | Done)[]) => ({
      decodeNs: stats(runs.map((r) => r.decodeNsPerObject)).median,
      computeNs: stats(runs.flatMap((r) => r.computeNsPerObject)).median,
      maxRssKiB: Math.max(...runs.map((r) => r.maxRssKiB)),
    });
    const k = figures(goRuns);
    const f = figures(fathomRuns);
    const row = (name: string, x: typeof k): (string | number)[] => [
      name,
      ns(x.computeNs),
      perSecond(x.computeNs),
      ns(x.decodeNs),
      perSecond(x.decodeNs + x.computeNs),
      mib(x.maxRssKiB),
    ];
    return {
      data: {
        objects: OBJECTS,
        seed: SEED,
        fileBytes,
        skipped,
        statuses,
        kstatus: k,
        fathom: f,
        goRuns,
        fathomRuns,
      },
      table: {
        title: `Offline status of ${count(OBJECTS)} objects, fathom vs kstatus (Go, cli-utils master), same objects`,
        columns: [
          '',
          'compute per object',
          'compute rate',
          'decode per object',
          'decode + compute rate',
          'peak RSS',
        ],
        rows: [
          row('kstatus (Go)', k),
          row('fathom', f),
          [
            'fathom / kstatus (time, RSS)',
            ratio(f.computeNs, k.computeNs),
            '',
            ratio(f.decodeNs, k.decodeNs),
            ratio(f.decodeNs + f.computeNs, k.decodeNs + k.computeNs),
            ratio(f.maxRssKiB, k.maxRssKiB),
          ],
        ],
        notes: [
          `${count(OBJECTS)} objects from the differential generator (seed ${SEED}; every kind and rule, ~10% malformed fields), ` +
            `with cluster-style metadata, ${bytes(fileBytes)} of JSON lines; verdicts: ${Object.entries(
              statuses,
            )
              .map(([s, n]) => `${s} ${count(n)}`)
              .join(', ')}. ` +
            `Before timing, both computed every object from the same lines: all ${count(OBJECTS)} statuses, messages and conditions were identical. ` +
            `Left out of the ${count(OBJECTS + skipped.untyped + skipped.deliberate + skipped.inexact)} generated: ${count(skipped.untyped)} without a string apiVersion/kind (\`fathom health\` rejects them), ` +
            `${count(skipped.deliberate)} with a deliberate difference (test/differential/kstatus-compare.ts), ${count(skipped.inexact)} with integers beyond 2^53 (JSON.parse rounds them).`,
          `Each side in its own process: kstatus is test/peers/kstatus (\`status.Compute\`, objects decoded with apimachinery's JSON decoder); ` +
            `fathom is bench/children/status (\`readManifests\` + \`compute\`, what \`fathom health -f\` runs). ` +
            `${ROUNDS} interleaved rounds, each decoding the file once and computing all objects ${REPS} times: compute is the median pass, decode the median round; ` +
            'peak RSS (getrusage maxRSS) is the highest round and includes all objects held decoded.',
        ],
      },
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export const statusBench: Bench = {
  name: 'status',
  description: `status of ${count(OBJECTS)} objects, fathom vs kstatus (Go); health table vs JSON; poll requests per cycle, caching vs direct`,
  async run(log): Promise<BenchResult> {
    const tables: Table[] = [];
    const data: Record<string, unknown> = {};
    const binary = await kstatusPeerBinary();
    const t = performance.now();
    const objects = corpus();
    log(
      `generated ${count(objects.lines.length)} objects in ${(performance.now() - t).toFixed(0)} ms`,
    );
    if (binary) {
      const o = await offline(binary, log, objects);
      data.offline = o.data;
      tables.push(o.table);
    } else {
      log(`offline comparison skipped: ${kstatusPeerUnavailableReason}`);
      data.offlineSkipped = kstatusPeerUnavailableReason;
    }

    const cli = await healthCliFigures(objects.lines, log);
    data.healthCli = cli.figures;
    tables.push(cli.table);

    const p = await pollingFigures();
    data.polling = p;
    const median = (xs: number[]): number => stats(xs).median;
    const pollRow = (label: string, f: typeof p.caching): (string | number)[] => [
      label,
      median(f.cycles.map((c) => c.list)),
      median(f.cycles.map((c) => c.get)),
      median(f.cycles.map((c) => c.list + c.get)),
      `${f.cycleMs.median.toFixed(1)} ms`,
    ];
    log(
      `polling: caching ${JSON.stringify(p.caching.cycles)}, direct ${JSON.stringify(p.direct.cycles)}`,
    );
    tables.push({
      title: `Polling ${count(p.ids)} objects (5 kinds × ${NAMESPACES} namespaces): API requests per cycle`,
      columns: ['reader', 'LIST', 'GET', 'requests per cycle', 'cycle time (in memory)'],
      rows: [pollRow('caching (default)', p.caching), pollRow('direct', p.direct)],
      notes: [
        `Deployment, StatefulSet, Service, ConfigMap and a custom resource, 20 of each per namespace, with the ReplicaSets and Pods the status readers follow (${count(p.objects)} objects). ` +
          `Goal for the caching reader: exactly the distinct GroupKind × namespace pairs, generated kinds included: ` +
          `(5 kinds + ReplicaSet + Pod) × ${NAMESPACES} = ${p.pairs}; every one of ${CYCLES} cycles met it (the bench fails otherwise). ` +
          'The direct reader GETs each object and LISTs ReplicaSets per Deployment and Pods per ReplicaSet and StatefulSet. ' +
          'Requests are counted by the in-memory cluster (`createMemoryClusterReader`), one per get/list it serves; cycle time excludes any network.',
      ],
    });
    return {
      data,
      tables,
      ...(binary ? {} : { skipped: `offline half: ${kstatusPeerUnavailableReason}` }),
    };
  },
};
