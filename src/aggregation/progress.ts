import { FathomError } from '../core/errors.js';
import type { ProgressUpdate } from './types.js';

/**
 * Bounds on progress, so that a chatty or hostile plugin cannot grow the status document (which
 * is rewritten on every change) without end. Bytes are UTF-8 bytes.
 */
export const PROGRESS_LIMITS = {
  /** One update as sent; over it the aggregator answers 413. */
  bodyBytes: 64 * 1024,
  /** `msg`, cut beyond it. */
  msgBytes: 1024,
  /** Each failure or error string, cut beyond it. */
  entryBytes: 1024,
  /** Entries kept in `failures` and in `errors`; the oldest go first. */
  entries: 1000,
  /**
   * `msg` and every failure and error of one result together; the oldest entries go first. Small,
   * as the status of every node must also fit a Kubernetes annotation (256 KiB, gzipped).
   */
  totalBytes: 16 * 1024,
} as const;

const ELLIPSIS = '…';
const encoder = new TextEncoder();

/** `s` cut to at most `max` UTF-8 bytes, on a character boundary, marked with an ellipsis. */
export function truncateUtf8(s: string, max: number): string {
  // A UTF-16 code unit is at most 3 UTF-8 bytes: most strings need no encoding at all.
  if (s.length * 3 <= max || Buffer.byteLength(s) <= max) return s;
  const room = new Uint8Array(Math.max(0, max - Buffer.byteLength(ELLIPSIS)));
  const { read } = encoder.encodeInto(s, room);
  return `${s.slice(0, read)}${ELLIPSIS}`;
}

/** Drops from the front of `list` until its bytes fit `budget`; returns what is left and how many went. */
function dropOldest(list: string[], budget: number): { kept: string[]; dropped: number } {
  let bytes = list.reduce((n, s) => n + Buffer.byteLength(s), 0);
  let dropped = 0;
  while (bytes > budget && dropped < list.length) bytes -= Buffer.byteLength(list[dropped++]!);
  return { kept: dropped ? list.slice(dropped) : list, dropped };
}

/**
 * `u` within PROGRESS_LIMITS: strings cut, and the oldest failures (then errors) dropped, with
 * the number dropped added to `droppedfailures` / `droppederrors`.
 */
export function boundProgress(u: ProgressUpdate): ProgressUpdate {
  const { entries, entryBytes, totalBytes } = PROGRESS_LIMITS;
  const msg = truncateUtf8(u.msg, PROGRESS_LIMITS.msgBytes);
  const cut = (list: string[] | undefined): string[] =>
    (list ?? []).slice(-entries).map((s) => truncateUtf8(s, entryBytes));
  let failures = cut(u.failures);
  let errors = cut(u.errors);
  let droppedFailures = (u.droppedfailures ?? 0) + Math.max(0, (u.failures?.length ?? 0) - entries);
  let droppedErrors = (u.droppederrors ?? 0) + Math.max(0, (u.errors?.length ?? 0) - entries);
  const errorBytes = errors.reduce((n, s) => n + Buffer.byteLength(s), 0);
  const f = dropOldest(failures, totalBytes - Buffer.byteLength(msg) - errorBytes);
  failures = f.kept;
  droppedFailures += f.dropped;
  const e = dropOldest(errors, totalBytes - Buffer.byteLength(msg));
  errors = e.kept;
  droppedErrors += e.dropped;

  const same = (a: string[], b: string[] | undefined): boolean =>
    a.length === (b?.length ?? 0) && a.every((s, i) => s === b![i]);
  if (
    msg === u.msg &&
    same(failures, u.failures) &&
    same(errors, u.errors) &&
    droppedFailures === (u.droppedfailures ?? 0) &&
    droppedErrors === (u.droppederrors ?? 0)
  ) {
    return u; // within bounds already
  }
  const bounded: ProgressUpdate = { ...u, msg };
  delete bounded.failures;
  delete bounded.errors;
  delete bounded.droppedfailures;
  delete bounded.droppederrors;
  if (errors.length) bounded.errors = errors;
  if (failures.length) bounded.failures = failures;
  if (droppedFailures) bounded.droppedfailures = droppedFailures;
  if (droppedErrors) bounded.droppederrors = droppedErrors;
  return bounded;
}

/** Where an update comes from: the URL names the plugin and node, the aggregator's clock the time. */
export interface ProgressOrigin {
  plugin: string;
  node: string;
  /** RFC 3339. */
  timestamp: string;
}

function invalid(message: string): FathomError {
  return new FathomError('FATHOM_PROGRESS_INVALID', `progress update: ${message}`);
}

function stringField(body: Record<string, unknown>, key: string): string {
  const v = body[key];
  if (v === undefined || v === null) return '';
  if (typeof v !== 'string') throw invalid(`${key} must be a string`);
  return v;
}

// Go decodes these into int64: fractions and strings are errors there too.
function intField(body: Record<string, unknown>, key: string): number {
  const v = body[key];
  if (v === undefined || v === null) return 0;
  if (typeof v !== 'number' || !Number.isSafeInteger(v)) throw invalid(`${key} must be an integer`);
  return v;
}

function stringsField(body: Record<string, unknown>, key: string): string[] {
  const v = body[key];
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v) || !v.every((s) => typeof s === 'string')) {
    throw invalid(`${key} must be an array of strings`);
  }
  return [...v] as string[];
}

function boolField(body: Record<string, unknown>, key: string): boolean {
  const v = body[key];
  if (v === undefined || v === null) return false;
  if (typeof v !== 'boolean') throw invalid(`${key} must be a boolean`);
  return v;
}

/**
 * Validates a decoded progress body the way Go's decoder would (unknown keys ignored, wrong
 * types rejected) and returns it in Sonobuoy's JSON shape: empty optional fields omitted, name,
 * node and timestamp taken from `origin`.
 */
export function parseProgressUpdate(body: unknown, origin: ProgressOrigin): ProgressUpdate {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw invalid('body must be a JSON object');
  }
  const b = body as Record<string, unknown>;
  const update: ProgressUpdate = {
    name: origin.plugin,
    node: origin.node,
    timestamp: origin.timestamp,
    msg: stringField(b, 'msg'),
    total: intField(b, 'total'),
    completed: intField(b, 'completed'),
  };
  const errors = stringsField(b, 'errors');
  const failures = stringsField(b, 'failures');
  const appendtotals = boolField(b, 'appendtotals');
  const appendcompleted = intField(b, 'appendcompleted');
  const appendfailing = stringsField(b, 'appendfailing');
  if (errors.length) update.errors = errors;
  if (failures.length) update.failures = failures;
  if (appendtotals) update.appendtotals = true;
  if (appendcompleted !== 0) update.appendcompleted = appendcompleted;
  if (appendfailing.length) update.appendfailing = appendfailing;
  return update;
}

/** An update that reports increments rather than totals. */
export function isAppending(u: ProgressUpdate): boolean {
  return (
    u.appendtotals === true || (u.appendcompleted ?? 0) > 0 || (u.appendfailing?.length ?? 0) > 0
  );
}

/**
 * The update to keep after `next` arrives: `next` itself unless it appends, in which case its
 * increments are added to `previous` (or to zero) and its message and time replace the old ones.
 * Either way the result is held within PROGRESS_LIMITS.
 */
export function mergeProgress(
  previous: ProgressUpdate | undefined,
  next: ProgressUpdate,
): ProgressUpdate {
  return boundProgress(combine(previous, next));
}

function combine(previous: ProgressUpdate | undefined, next: ProgressUpdate): ProgressUpdate {
  if (!isAppending(next)) return next;
  const base: ProgressUpdate = previous ?? {
    name: next.name,
    node: next.node,
    timestamp: next.timestamp,
    msg: '',
    total: 0,
    completed: 0,
  };
  const added = next.appendcompleted ?? 0;
  const failing = next.appendfailing ?? [];
  const merged: ProgressUpdate = {
    ...base,
    name: next.name,
    node: next.node,
    timestamp: next.timestamp,
    msg: next.msg,
    completed: base.completed + added,
    total: next.appendtotals ? base.total + added + failing.length : base.total,
  };
  const failures = [...(base.failures ?? []), ...failing];
  if (failures.length) merged.failures = failures;
  return merged;
}
