import { FathomError } from '../core/errors.js';
import type { ProgressUpdate } from './types.js';

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
 */
export function mergeProgress(
  previous: ProgressUpdate | undefined,
  next: ProgressUpdate,
): ProgressUpdate {
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
