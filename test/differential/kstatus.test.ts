/**
 * Differential test: fathom's `compute` against the Go original (`status.Compute` of
 * sigs.k8s.io/cli-utils at master, through test/peers/kstatus) on the same generated objects.
 * Every status, message and condition must be identical, except for the deliberate differences
 * named in kstatus-compare.ts, which must take exactly their documented form.
 *
 * Seeds are fixed so a failure reproduces; object #i depends only on the seed and i. To try
 * more: FATHOM_KSTATUS_SEEDS=5,6,7 FATHOM_KSTATUS_OBJECTS=20000 npx vitest run test/differential
 */
import { describe, expect, it } from 'vitest';
import { compute, parseManifests, type KubeObject } from '../../src/status/index.js';
import type { PeerOutput } from '../peers/kstatus.js';
import {
  computeWithPeer,
  kstatusPeerBinary,
  kstatusPeerUnavailableReason,
  toGoJson,
} from '../peers/kstatus.js';
import type { Comparison } from './kstatus-compare.js';
import {
  compareWithGo,
  coverageKey,
  DELIBERATE,
  formatDifference,
  goVerdict,
} from './kstatus-compare.js';
import type { Deliberate, GeneratedObject } from './kstatus-gen.js';
import { generateObjects, seededRandom } from './kstatus-gen.js';
import { available } from '../support/required.js';

const SEEDS = (process.env.FATHOM_KSTATUS_SEEDS ?? '1,2,3,4').split(',').map(Number);
const PER_SEED = Number(process.env.FATHOM_KSTATUS_OBJECTS ?? 3000);

const binary = await kstatusPeerBinary();
available(binary !== undefined, `the kstatus differential test: ${kstatusPeerUnavailableReason}`);

/**
 * Every verdict of the reference, as `status: reason` (or the message with numbers as N), each
 * a prefix of what must be seen: a generator that stopped reaching one would test nothing there.
 */
const EXPECTED_VERDICTS = [
  'Terminating: Resource scheduled for deletion',
  'InProgress: LatestGenerationNotObserved',
  // Deployment
  'Failed: ProgressDeadlineExceeded',
  'InProgress: LessReplicas',
  'InProgress: LessUpdated',
  'InProgress: ExtraPods',
  'InProgress: LessAvailable',
  'InProgress: LessReady',
  'InProgress: ReplicaSetNotAvailable',
  'InProgress: DeploymentNotAvailable',
  'Current: Deployment is available. Replicas: N',
  // ReplicaSet
  'InProgress: ReplicaFailure',
  'InProgress: LessLabelled',
  'Current: ReplicaSet is available. Replicas: N',
  // StatefulSet
  'Current: StatefulSet is using the ondelete update strategy',
  'InProgress: PartitionRollout',
  'Current: Partition rollout complete. updated: N',
  'InProgress: LessCurrent',
  'InProgress: RevisionMismatch',
  'Current: All replicas scheduled as expected. Replicas: N',
  // DaemonSet
  'InProgress: NoGeneration',
  'InProgress: NoObservedGeneration',
  'InProgress: NoDesiredNumber',
  // Pod
  'Current: Pod has completed successfully',
  'Current: Pod has completed, but not successfully',
  'Current: Pod is Ready',
  'Failed: ContainerCrashLooping',
  'InProgress: PodRunningNotReady',
  'InProgress: PodNotScheduled',
  'Failed: PodUnschedulable',
  'InProgress: PodPending',
  'InProgress: PodNotObserved',
  'Unknown: unknown phase',
  'Unknown: .status.containerStatuses accessor error',
  // PVC, Service
  'Current: PVC is Bound',
  'InProgress: NotBound',
  'InProgress: NoIPAssigned',
  'Current: Service is ready',
  // Job, CronJob, ConfigMap, Secret, PDB
  'Current: Job Completed. succeeded: N/N',
  'Failed: JobFailed',
  'Current: Job is suspended',
  'InProgress: JobNotStarted',
  'Current: Job in progress. success:N, active: N, failed: N',
  'Current: Resource is always ready',
  'Current: AllowedDisruptions has been computed.',
  // CRD
  'Failed: NameConflict',
  'Failed: NotEstablished',
  'Current: CRD is established',
  'InProgress: Installing',
  // Generic: Reconciling/Stalled, Ready, default
  'InProgress: Progressing',
  'Failed: Error',
  'Current: Resource is Ready',
  'InProgress: SomeReason',
  'Current: Resource is current',
  // Compute errors
  'Unknown: looking up metadata.deletionTimestamp from resource',
  'Unknown: looking up metadata.generation from resource',
  'Unknown: looking up status.observedGeneration from resource',
  'Unknown: cannot convert',
  'Unknown: cannot restore struct',
  'Unknown: cannot restore slice',
  'Unknown: unrecognized type',
  'panic: ',
];

describe('the differential generator', () => {
  it('gives the same objects for the same seed, object #i independent of the count', () => {
    const a = generateObjects(seededRandom(7), 200);
    const b = generateObjects(seededRandom(7), 50);
    expect(b.map((g) => toGoJson(g.object))).toEqual(a.slice(0, 50).map((g) => toGoJson(g.object)));
    const c = generateObjects(seededRandom(8), 50);
    expect(c.map((g) => toGoJson(g.object))).not.toEqual(b.map((g) => toGoJson(g.object)));
  });

  it('writes JSON for Go with bigints as plain int64 digits', () => {
    expect(toGoJson({ a: 9223372036854775807n, b: [1.5, undefined, 'x'], c: undefined })).toBe(
      '{"a":9223372036854775807,"b":[1.5,null,"x"]}',
    );
  });
});

describe.skipIf(!binary)('fathom compute vs kstatus (Go, cli-utils master)', () => {
  const runs = new Map<number, Promise<{ generated: GeneratedObject[]; go: PeerOutput[] }>>();
  /** One Go run per seed, shared by the tests below. */
  const run = (seed: number): Promise<{ generated: GeneratedObject[]; go: PeerOutput[] }> => {
    let r = runs.get(seed);
    if (!r) {
      const generated = generateObjects(seededRandom(seed), PER_SEED);
      r = computeWithPeer(
        binary!,
        generated.map((g) => g.object),
      ).then((go) => ({
        generated,
        go,
      }));
      runs.set(seed, r);
    }
    return r;
  };
  const comparisons: Comparison[] = [];

  it.each(SEEDS)(
    `seed %i: ${PER_SEED} objects, identical status, message and conditions`,
    async (seed) => {
      const { generated, go } = await run(seed);
      const cmp = compareWithGo(generated, go);
      comparisons.push(cmp);
      const first = cmp.differences.slice(0, 8).map((d) => formatDifference(d, seed));
      expect(
        cmp.differences.length,
        `${cmp.differences.length} of ${cmp.compared} objects differ; the first ones:\n\n${first.join('\n\n')}\n`,
      ).toBe(0);
    },
  );

  it('the objects reach every verdict of the reference', () => {
    expect(comparisons).toHaveLength(SEEDS.length);
    const seen = [...new Set(comparisons.flatMap((c) => [...c.seen]))];
    const missing = EXPECTED_VERDICTS.filter((want) => !seen.some((s) => s.startsWith(want)));
    expect(missing, `never produced by the generated objects: ${missing.join('; ')}`).toEqual([]);
  });

  it('each deliberate difference shows up, and only in its documented form', () => {
    const totals: Record<Deliberate, number> = {
      'go-panics-on-malformed-container-status': 0,
      'conditions-decode-error-text': 0,
    };
    for (const c of comparisons) {
      for (const k of Object.keys(totals) as Deliberate[]) totals[k] += c.deliberate[k];
    }
    for (const [name, n] of Object.entries(totals)) {
      expect(
        n,
        `${name} (${DELIBERATE[name as Deliberate].why}) was never exercised`,
      ).toBeGreaterThan(0);
    }
  });

  it('`fathom health -f` reads the same objects from the JSON lines Go decodes', async () => {
    const { generated, go } = await run(SEEDS[0]!);
    const lines = generated.map((g) => toGoJson(g.object));
    // Left out, explicitly: what the reader rejects (apiVersion or kind not a string: kubectl
    // refuses those too), and lines JSON.parse cannot read exactly: integers beyond 2^53 are
    // rounded (9223372036854775807 reads as 2^63, a float64 to Go). Known limits of the reader,
    // not of compute.
    const typed = (o: KubeObject): boolean =>
      typeof o.apiVersion === 'string' &&
      o.apiVersion !== '' &&
      typeof o.kind === 'string' &&
      o.kind !== '';
    const exact = (line: string): boolean => toGoJson(JSON.parse(line)) === line;
    const keep = lines.flatMap((line, i) =>
      typed(generated[i]!.object) && exact(line) ? [i] : [],
    );
    const inexact = lines.filter((line, i) => typed(generated[i]!.object) && !exact(line)).length;
    expect(
      inexact,
      'no line had an integer beyond 2^53: the exclusion tests nothing',
    ).toBeGreaterThan(0);

    const read: KubeObject[] = [];
    const text = keep.map((i) => `${lines[i]}\n`).join('');
    for await (const m of parseManifests(text, 'objects.jsonl')) read.push(m.object);
    expect(read).toHaveLength(keep.length);
    const cmp = compareWithGo(
      keep.map((i, k) => ({ ...generated[i]!, object: read[k]! })),
      keep.map((i) => go[i]!),
    );
    const first = cmp.differences.slice(0, 8).map((d) => formatDifference(d, SEEDS[0]));
    expect(cmp.differences.length, first.join('\n\n')).toBe(0);
  });

  it('a difference is caught and printed with the object and both verdicts', async () => {
    const { generated, go } = await run(SEEDS[0]!);
    // A fathom whose ExtraPods count is off by one: the comparison must notice.
    const cmp = compareWithGo(generated, go, {
      compute: (o, options) => {
        const r = compute(o, options);
        return r.message.startsWith('Pending termination: ')
          ? { ...r, message: `${r.message}0` }
          : r;
      },
    });
    const d = cmp.differences.find((x) => x.fathom.message.startsWith('Pending termination: '));
    expect(d, 'the off-by-one fathom went unnoticed').toBeDefined();
    const text = formatDifference(d!, SEEDS[0]);
    expect(text).toMatch(/^#\d+ \(seed \d+\) /);
    expect(text).toMatch(/\n {2}object {2}\{"apiVersion":/);
    expect(text).toMatch(/\n {2}kstatus InProgress: "Pending termination: -?\d+"\n/);
    expect(text).toMatch(/\n {2}fathom {2}InProgress: "Pending termination: -?\d+0"\n/);
  });
  it('StatefulSets with a partition below -1 reach both partition verdicts', async () => {
    const seen = new Map<string, number>();
    for (const seed of SEEDS) {
      const { generated, go } = await run(seed);
      generated.forEach((g, i) => {
        if (!g.shape.split('+').includes('partitionBelowMinusOne')) return;
        const key = coverageKey(goVerdict(go[i]!));
        seen.set(key, (seen.get(key) ?? 0) + 1);
      });
    }
    const keys = [...seen.keys()];
    expect(keys).toContain('InProgress: PartitionRollout');
    expect(keys.some((k) => k.startsWith('Current: Partition rollout complete'))).toBe(true);
  });

  it('catches a fathom that reads a partition below -1 as unset (`partition > -1`)', async () => {
    const { generated, go } = await run(SEEDS[0]!);
    const tagged = generated.filter((g) => g.shape.split('+').includes('partitionBelowMinusOne'));
    const below = new Set<unknown>(tagged.map((g) => g.object));
    const cmp = compareWithGo(generated, go, {
      compute: (o, options) => {
        if (!below.has(o)) return compute(o, options);
        type Sts = { spec: { updateStrategy: { rollingUpdate: { partition?: unknown } } } };
        const copy = structuredClone(o) as Sts;
        delete copy.spec.updateStrategy.rollingUpdate.partition;
        return compute(copy, options);
      },
    });
    expect(
      cmp.differences.filter((d) => d.shape.includes('partitionBelowMinusOne')).length,
    ).toBeGreaterThan(0);
  });

  it('catches a fathom that names the wrong containerStatuses entry', async () => {
    const { generated, go } = await run(SEEDS[0]!);
    const cmp = compareWithGo(generated, go, {
      compute: (o, options) => {
        const r = compute(o, options);
        const m = /^status\.containerStatuses: \[(\d+)\]/.exec(r.message);
        if (!m) return r;
        const wrong = `status.containerStatuses: [${Number(m[1]) + 1}]`;
        return { ...r, message: r.message.replace(m[0], wrong) };
      },
    });
    const caught = cmp.differences.filter((d) => d.go.status === 'panic');
    expect(caught.length).toBeGreaterThan(0);
    expect(cmp.deliberate['go-panics-on-malformed-container-status']).toBe(0);
  });
});
