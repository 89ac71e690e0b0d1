/**
 * A seeded generator of Kubernetes objects for differential testing of status computation against
 * the Go original. Randomness is injected (`Random`); the same seed gives the same objects, so a
 * failure reproduces from its seed and index. Objects cover every kind and rule of the reference
 * (../shared/reference/kstatus.md), plus the generic steps and malformed fields on any kind.
 *
 * Shapes the generator leaves out on purpose (they concern the input, not the rules):
 * - strings with lone UTF-16 surrogates: Go's JSON decoder turns them into U+FFFD, JSON.parse
 *   keeps them, so the two sides would not even see the same object;
 * - Pod creationTimestamps within a minute of now: the 15 s scheduling window reads the wall
 *   clock on the Go side, so only times far in the past or future compare deterministically.
 */
import type { KubeObject } from '../../src/status/index.js';
import { kindBuilders } from './kstatus-kinds.js';

/** A source of uniform numbers in [0, 1), like Math.random. */
export type Random = () => number;

/** mulberry32: a small seeded PRNG, plenty for picking shapes. */
export function seededRandom(seed: number): Random {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * A difference from kstatus fathom makes on purpose. Objects carrying one are compared by the
 * rule written for it instead of by equality (kstatus-compare.ts).
 */
export type Deliberate = 'go-panics-on-malformed-container-status' | 'conditions-decode-error-text';

/**
 * Where the generator put the malformed entry of a Pod's status.containerStatuses: its index and
 * the field below it that has the wrong type ('' for the entry itself, '.state.waiting', ...).
 */
export interface ContainerStatusFault {
  readonly index: number;
  readonly path: string;
}

export interface GeneratedObject {
  readonly object: KubeObject;
  /** What the generator built, e.g. `apps/Deployment` + the generic mutations applied. */
  readonly shape: string;
  /** The deliberate differences the object may show (judged by their rules, not by equality). */
  readonly deliberate: readonly Deliberate[];
  /** Set with 'go-panics-on-malformed-container-status': what fathom's message must name. */
  readonly containerStatusFault?: ContainerStatusFault;
}

/** Helpers over a Random. */
export class Gen {
  constructor(readonly random: Random) {}

  chance(p: number): boolean {
    return this.random() < p;
  }

  int(lo: number, hi: number): number {
    return lo + Math.floor(this.random() * (hi - lo + 1));
  }

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.random() * items.length)]!;
  }

  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = Math.floor(this.random() * (i + 1));
      [items[i], items[j]] = [items[j]!, items[i]!];
    }
    return items;
  }

  /** Values of the wrong type or out of the usual range, for any integer field. */
  weirdNumber(): unknown {
    return this.pick(WEIRD_NUMBERS);
  }

  /** A count near `base`: usually equal (so deep branches are reached), sometimes off or odd. */
  count(base: unknown): unknown {
    const r = this.random();
    if (r < 0.65) return base;
    if (r < 0.8) return typeof base === 'number' ? base + this.pick([-1, 1, 2]) : this.int(0, 3);
    if (r < 0.88) return undefined;
    return this.weirdNumber();
  }

  /** A condition status: mostly the three legal ones. */
  conditionStatus(): unknown {
    return this.pick(['True', 'True', 'False', 'Unknown', 'true', '', 'Bogus']);
  }

  text(): string {
    return this.pick(TEXTS);
  }

  /** A condition; reason and message are sometimes absent or null. */
  condition(type: string, status: unknown, reason?: string): Record<string, unknown> {
    const c: Record<string, unknown> = { type, status };
    const r = this.random();
    if (r < 0.8) c.reason = reason ?? this.pick(['', 'SomeReason', 'AsExpected']);
    else if (r < 0.85) c.reason = null;
    if (this.chance(0.8)) c.message = this.text();
    else if (this.chance(0.2)) c.message = null;
    if (this.chance(0.3)) c.lastTransitionTime = '2020-01-01T00:00:00Z';
    return c;
  }
}

const WEIRD_NUMBERS: readonly unknown[] = [
  -1,
  -3,
  0,
  1.5,
  0.5,
  '2',
  '',
  true,
  null,
  {},
  [],
  2 ** 53,
  2 ** 53 + 2,
  2147483647,
  2147483648,
  9223372036854775807n,
  9223372036854775806n,
  -9223372036854775808n,
  2 ** 63, // just past int64: Go decodes it as float64
  1e19,
  -1e19,
  1e21,
  123456789.5,
  1e-7,
];

const TEXTS: readonly string[] = [
  '',
  'waiting for rollout',
  'Deployment has minimum availability.',
  'Häl ünïcödé ✓ 日本語',
  'with "quotes", a \\ backslash and a\nnewline',
  'tab\there <html> &amp; %d %s %v',
  'x'.repeat(300),
];

const isObj = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v);

/** `o.status` as a map, creating it (or replacing a non-map) when needed. */
function statusOf(o: KubeObject): Record<string, unknown> {
  if (!isObj(o.status)) o.status = {};
  return o.status as Record<string, unknown>;
}

function metadataOf(o: KubeObject): Record<string, unknown> {
  if (!isObj(o.metadata)) o.metadata = {};
  return o.metadata as Record<string, unknown>;
}

function conditionsOf(o: KubeObject): unknown[] {
  const s = statusOf(o);
  if (!Array.isArray(s.conditions)) s.conditions = [];
  return s.conditions as unknown[];
}

const VALID_GENERATIONS: readonly unknown[] = [1, 2, 5, 2 ** 53, 9223372036854775807n];
const BAD_GENERATIONS: readonly unknown[] = [
  1.5,
  '3',
  null,
  true,
  1e21,
  2 ** 63,
  -(2 ** 63) - 4096,
  {},
  [2, 'x'],
  { n: 123456789.25 },
];

/** metadata.generation vs status.observedGeneration, on any kind (step 2). */
function mutateGeneration(g: Gen, o: KubeObject): string {
  const meta = metadataOf(o);
  const bad = g.chance(0.12);
  const gen = bad ? g.pick(BAD_GENERATIONS) : g.pick(VALID_GENERATIONS);
  meta.generation = gen;
  const r = g.random();
  if (r < 0.45) statusOf(o).observedGeneration = gen;
  else if (r < 0.7 && typeof gen === 'number') {
    statusOf(o).observedGeneration = gen + g.pick([-1, 1]);
  } else if (r < 0.75 && typeof gen === 'bigint') statusOf(o).observedGeneration = gen - 1n;
  else if (r < 0.88) delete statusOf(o).observedGeneration;
  else statusOf(o).observedGeneration = g.pick(BAD_GENERATIONS);
  return bad ? 'badGeneration' : 'generation';
}

/** Reconciling/Stalled anywhere in the list (step 3). */
function mutateStandardConditions(g: Gen, o: KubeObject): string {
  const list = conditionsOf(o);
  const type = g.pick(['Reconciling', 'Stalled']);
  const at = g.int(0, list.length);
  list.splice(at, 0, g.condition(type, g.conditionStatus(), g.pick(['Progressing', 'Error', ''])));
  return type;
}

/** Fields of the wrong type where Compute decodes strictly, or where lenient getters default. */
function mutateMalformed(g: Gen, o: KubeObject): string {
  const which = g.int(0, 7);
  switch (which) {
    case 0:
      o.status = g.pick(['x', 5, [], true, 1.5]);
      return 'statusNotMap';
    case 1:
      statusOf(o).conditions = g.pick(['x', 5, {}, { type: 'Ready', status: 'True' }, true]);
      return 'conditionsNotList';
    case 2:
      conditionsOf(o).splice(g.int(0, conditionsOf(o).length), 0, g.pick([5, 'x', null, [], true]));
      return 'conditionNotMap';
    case 3: {
      const c = g.condition(g.pick(['Ready', 'Available', 'Reconciling']), 'True');
      c[g.pick(['type', 'status', 'reason', 'message'])] = g.pick([5, true, {}, [], 1.5, -2]);
      conditionsOf(o).unshift(c);
      return 'conditionFieldType';
    }
    case 4:
      o.metadata = g.pick(['x', 5, [], null]);
      return 'metadataNotMap';
    case 5:
      o.spec = g.pick(['x', 5, [], null]);
      return 'specNotMap';
    case 6:
      conditionsOf(o).unshift({ Type: 'Ready', Status: 'False', Reason: 'Capitalised' });
      return 'conditionKeysCapitalised';
    default:
      statusOf(o).observedGeneration = g.pick(BAD_GENERATIONS);
      metadataOf(o).generation = 1;
      return 'badObservedGeneration';
  }
}

function mutateTypeMeta(g: Gen, o: KubeObject): string {
  if (g.chance(0.5)) {
    const v = g.pick([undefined, 5, 'a/b/c', '', '/v1', 'apps/', 'v1', 'apps/v1']);
    if (v === undefined) delete o.apiVersion;
    else o.apiVersion = v;
    return 'apiVersion';
  }
  const kind = typeof o.kind === 'string' ? o.kind : '';
  const v = g.pick([undefined, 5, '', kind.toLowerCase(), `${kind}List`]);
  if (v === undefined) delete o.kind;
  else o.kind = v;
  return 'kind';
}

/** Malformations that make kstatus's decoding of status.conditions fail. */
const DECODED_STRICTLY = new Set([
  'statusNotMap',
  'conditionsNotList',
  'conditionNotMap',
  'conditionFieldType',
]);

const DELETION_VALUES: readonly unknown[] = [
  '2024-01-01T00:00:00Z',
  '2024-01-01T00:00:00Z',
  'not a time, still a string',
  '',
  0,
  null,
  false,
  {},
  // Go prints these with %v: maps sorted by key, lists space-separated, floats as %g.
  { b: [1, 'x', null, 2.5e6, -0.00001], a: { c: true, B: 1e21 }, ü: '' },
  [1.5, { z: null }],
];

/** The generic steps every kind goes through, applied at random over a kind's own shape. */
function mutateGeneric(g: Gen, o: KubeObject, tags: string[], deliberate: Deliberate[]): void {
  if (g.chance(0.07)) {
    metadataOf(o).deletionTimestamp = g.pick(DELETION_VALUES);
    tags.push('deletion');
  }
  if (g.chance(0.25)) tags.push(mutateGeneration(g, o));
  if (g.chance(0.15)) tags.push(mutateStandardConditions(g, o));
  if (g.chance(0.06)) {
    const tag = mutateMalformed(g, o);
    tags.push(tag);
    if (DECODED_STRICTLY.has(tag)) deliberate.push('conditions-decode-error-text');
  }
  if (g.chance(0.03)) tags.push(mutateTypeMeta(g, o));
}

/**
 * `count` objects from `random`: a kind's own shape (kstatus-kinds.ts), then the generic steps'
 * fields at random over it. The same `random` sequence gives the same objects.
 */
export function generateObjects(random: Random, count: number): GeneratedObject[] {
  const g = new Gen(random);
  const out: GeneratedObject[] = [];
  const totalWeight = kindBuilders.reduce((s, b) => s + b.weight, 0);
  for (let i = 0; i < count; i++) {
    let r = g.random() * totalWeight;
    const builder = kindBuilders.find((b) => (r -= b.weight) < 0) ?? kindBuilders[0]!;
    const built = builder.build(g, `obj-${i}`);
    const tags = [builder.name, ...(built.tags ?? [])];
    const deliberate = built.deliberate ? [built.deliberate] : [];
    mutateGeneric(g, built.object, tags, deliberate);
    out.push({
      object: built.object,
      shape: tags.join('+'),
      deliberate,
      ...(built.containerStatusFault ? { containerStatusFault: built.containerStatusFault } : {}),
    });
  }
  return out;
}
