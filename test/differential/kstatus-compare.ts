/**
 * Comparing fathom's `compute` with the Go original's `status.Compute` object by object: both
 * sides become a verdict (status, message, conditions), a Go error becoming Unknown with the
 * error's text as message (what fathom's `compute` returns for the same failure). Everything
 * must be equal, except where an object carries a deliberate difference (see `DELIBERATE`) and
 * the pair shows exactly that difference.
 */
import type { Result } from '../../src/status/index.js';
import { compute } from '../../src/status/index.js';
import type { PeerOutput } from '../peers/kstatus.js';
import { toGoJson } from '../peers/kstatus.js';
import type { Deliberate, GeneratedObject } from './kstatus-gen.js';

export interface Verdict {
  readonly status: string;
  readonly message: string;
  readonly conditions: readonly { type: string; status: string; reason: string; message: string }[];
}

/** The Go side as a verdict: Compute errors are Unknown, panics are the status `panic`. */
export function goVerdict(out: PeerOutput): Verdict {
  if (out.decodeError !== undefined)
    return { status: 'decodeError', message: out.decodeError, conditions: [] };
  if (out.panic !== undefined) return { status: 'panic', message: out.panic, conditions: [] };
  if (out.error !== undefined) return { status: 'Unknown', message: out.error, conditions: [] };
  return { status: out.status ?? '', message: out.message ?? '', conditions: out.conditions ?? [] };
}

export function fathomVerdict(r: Result): Verdict {
  return {
    status: r.status,
    message: r.message,
    conditions: r.conditions.map((c) => ({ ...c })),
  };
}

function sameVerdict(a: Verdict, b: Verdict): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** A difference fathom makes on purpose, and the exact form it must take. */
export interface DeliberateRule {
  readonly why: string;
  /** True when the two verdicts of `generated` differ exactly as described. */
  accepts(go: Verdict, fathom: Verdict, generated: GeneratedObject): boolean;
}

/** Go's message for a failed type assertion: the dynamic type, and the one asserted. */
const GO_PANIC =
  /^interface conversion: interface \{\} is (.+), not (string|map\[string\]interface \{\})$/;

/** reflect.Kind names of the Go types fathom's messages name (`%T`). */
const GO_KIND: Readonly<Record<string, string>> = {
  int64: 'int64',
  float64: 'float64',
  string: 'string',
  bool: 'bool',
  '[]interface {}': 'slice',
  'map[string]interface {}': 'map',
};

const FATHOM_DECODE_ERROR =
  /^status(?:\.conditions(?:\[\d+\](?:\.(type|status|reason|message))?)?)?: cannot decode (.+) into a (status object|list|condition|string)$/;

export const DELIBERATE: Readonly<Record<Deliberate, DeliberateRule>> = {
  'go-panics-on-malformed-container-status': {
    why:
      'kstatus type-asserts the entries of status.containerStatuses of a Running, not-Ready Pod ' +
      'unchecked (an entry that is not a map, a name or waiting.reason that is not a string, a ' +
      'state or waiting that is not a map) and panics, taking down the process that polls. ' +
      'Fathom reports Unknown naming the field instead.',
    // Exact: the index and field come from the generator, the type from Go's panic (which
    // says `nil` where fathom, like Go's %T, says `<nil>`), and the asserted type must fit.
    accepts(go, fathom, { containerStatusFault: fault }) {
      const m = go.status === 'panic' ? GO_PANIC.exec(go.message) : null;
      if (!m || !fault || fathom.status !== 'Unknown' || fathom.conditions.length > 0) return false;
      const asserted = /\.(name|reason)$/.test(fault.path) ? 'string' : 'map[string]interface {}';
      if (m[2] !== asserted) return false;
      const type = m[1] === 'nil' ? '<nil>' : m[1];
      return (
        fathom.message ===
        `status.containerStatuses: [${fault.index}]${fault.path} is of the type ${type}, not the expected type`
      );
    },
  },
  'conditions-decode-error-text': {
    why:
      "kstatus decodes status.conditions with apimachinery's converter, whose errors name no " +
      "field ('cannot convert int64 to string', 'cannot restore slice from map'). Fathom fails " +
      'on exactly the same objects, also as Unknown, but names the field ' +
      "('status.conditions[0].type: cannot decode int64 into a string').",
    accepts(go, fathom) {
      if (go.status !== 'Unknown' || fathom.status !== 'Unknown') return false;
      const m = FATHOM_DECODE_ERROR.exec(fathom.message);
      const kind = m ? GO_KIND[m[2]!] : undefined;
      if (!m || !kind) return false;
      switch (m[3]) {
        case 'status object':
        case 'condition':
          return go.message === `cannot restore struct from: ${kind}`;
        case 'list':
          return go.message === `cannot restore slice from ${kind}`;
        default:
          if (kind !== 'int64') return go.message === 'unrecognized type: string';
          return (
            go.message ===
            `cannot convert int64 to ${m[1] === 'status' ? 'v1.ConditionStatus' : 'string'}`
          );
      }
    },
  },
};

export interface Difference {
  readonly index: number;
  readonly shape: string;
  readonly object: unknown;
  readonly go: Verdict;
  readonly fathom: Verdict;
}

export interface Comparison {
  readonly compared: number;
  readonly differences: readonly Difference[];
  /** How many objects differed in each deliberate way (and were accepted by its rule). */
  readonly deliberate: Readonly<Record<Deliberate, number>>;
  /** Every Go verdict seen, as `status: reason|message` keys, for coverage checks. */
  readonly seen: ReadonlySet<string>;
}

/** The coverage key of a verdict: its status and the reason (or the message without counts). */
export function coverageKey(v: Verdict): string {
  const reason = v.conditions[0]?.reason;
  const what = reason ?? v.message.replace(/-?\d+/g, 'N').slice(0, 60);
  return `${v.status}: ${what}`;
}

export interface CompareOptions {
  /** The wall clock by default: the Go side reads time.Now for the Pod scheduling window. */
  readonly now?: () => number;
  /** fathom's `compute` by default (a test swaps it to check that differences are caught). */
  readonly compute?: (object: unknown, options: { now: () => number }) => Result;
}

/** Computes every object with fathom and compares it with the Go output at the same index. */
export function compareWithGo(
  generated: readonly GeneratedObject[],
  goOutputs: readonly PeerOutput[],
  options: CompareOptions = {},
): Comparison {
  const now = options.now ?? (() => Date.now());
  const computeFn = options.compute ?? compute;
  const differences: Difference[] = [];
  const deliberate: Record<Deliberate, number> = {
    'go-panics-on-malformed-container-status': 0,
    'conditions-decode-error-text': 0,
  };
  const seen = new Set<string>();
  generated.forEach((g, index) => {
    const go = goVerdict(goOutputs[index]!);
    const fathom = fathomVerdict(computeFn(g.object, { now }));
    seen.add(coverageKey(go));
    if (sameVerdict(go, fathom)) return;
    const rule = g.deliberate.find((d) => DELIBERATE[d].accepts(go, fathom, g));
    if (rule) deliberate[rule]++;
    else differences.push({ index, shape: g.shape, object: g.object, go, fathom });
  });
  return { compared: generated.length, differences, deliberate, seen };
}

function verdictLines(label: string, v: Verdict): string[] {
  const lines = [`  ${label.padEnd(7)} ${v.status}: ${JSON.stringify(v.message)}`];
  for (const c of v.conditions) {
    lines.push(`  ${''.padEnd(7)}   ${c.type}=${c.status} reason=${JSON.stringify(c.reason)}`);
  }
  return lines;
}

/** A difference as a few readable lines: where it is, the object as Go read it, both verdicts. */
export function formatDifference(d: Difference, seed?: number): string {
  const json = toGoJson(d.object);
  return [
    `#${d.index}${seed === undefined ? '' : ` (seed ${seed})`} ${d.shape}`,
    `  object  ${json.length > 1500 ? `${json.slice(0, 1500)}…` : json}`,
    ...verdictLines('kstatus', d.go),
    ...verdictLines('fathom', d.fathom),
  ].join('\n');
}
