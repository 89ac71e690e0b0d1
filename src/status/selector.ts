/** metav1.LabelSelector: reading one from an object, matching labels, printing it for the API. */
import { FieldError, goTypeName, isMap, nestedMap } from './fields.js';
import type { LabelSelector, LabelSelectorRequirement } from './types.js';

const OPERATORS = new Set(['In', 'NotIn', 'Exists', 'DoesNotExist']);

function requirement(raw: unknown, i: number): LabelSelectorRequirement {
  if (!isMap(raw)) {
    throw new FieldError(`matchExpressions[${i}]: ${goTypeName(raw)} is not a requirement`);
  }
  const { key, operator, values } = raw;
  if (typeof key !== 'string' || key === '') {
    throw new FieldError(`matchExpressions[${i}].key: must be a non-empty string`);
  }
  if (typeof operator !== 'string' || !OPERATORS.has(operator)) {
    throw new FieldError(`"${String(operator)}" is not a valid label selector operator`);
  }
  const list = values === undefined || values === null ? [] : values;
  if (!Array.isArray(list) || list.some((v) => typeof v !== 'string')) {
    throw new FieldError(`matchExpressions[${i}].values: must be a list of strings`);
  }
  const op = operator as LabelSelectorRequirement['operator'];
  if ((op === 'In' || op === 'NotIn') && list.length === 0) {
    throw new FieldError("for 'in', 'notin' operators, values set can't be empty");
  }
  if ((op === 'Exists' || op === 'DoesNotExist') && list.length > 0) {
    throw new FieldError('values set must be empty for exists and does not exist');
  }
  return { key, operator: op, values: list as string[] };
}

/**
 * The selector at `spec.selector` as kstatus's toSelector reads it: missing is the error
 * `no selector found`; malformed parts are errors; `{}` matches everything.
 */
export function selectorOf(object: unknown): LabelSelector {
  const raw = nestedMap(object, 'spec', 'selector');
  if (raw === undefined) throw new FieldError('no selector found');
  const { matchLabels, matchExpressions } = raw;
  const labels: Record<string, string> = {};
  if (matchLabels !== undefined && matchLabels !== null) {
    if (!isMap(matchLabels)) throw new FieldError('matchLabels: must be a map of strings');
    for (const [k, v] of Object.entries(matchLabels)) {
      if (typeof v !== 'string') throw new FieldError(`matchLabels.${k}: must be a string`);
      labels[k] = v;
    }
  }
  let exprs: LabelSelectorRequirement[] = [];
  if (matchExpressions !== undefined && matchExpressions !== null) {
    if (!Array.isArray(matchExpressions)) throw new FieldError('matchExpressions: must be a list');
    exprs = matchExpressions.map(requirement);
  }
  return { matchLabels: labels, matchExpressions: exprs };
}

/** True when `labels` satisfy every requirement of the selector (an empty selector matches all). */
export function matchesSelector(
  labels: Readonly<Record<string, string>>,
  selector: LabelSelector,
): boolean {
  for (const [k, v] of Object.entries(selector.matchLabels ?? {})) {
    if (labels[k] !== v) return false;
  }
  for (const r of selector.matchExpressions ?? []) {
    const has = Object.hasOwn(labels, r.key);
    const values = r.values ?? [];
    switch (r.operator) {
      case 'In':
        if (!has || !values.includes(labels[r.key]!)) return false;
        break;
      case 'NotIn':
        if (has && values.includes(labels[r.key]!)) return false;
        break;
      case 'Exists':
        if (!has) return false;
        break;
      case 'DoesNotExist':
        if (has) return false;
        break;
    }
  }
  return true;
}

/** The selector in the API's `labelSelector` query syntax (sorted by key, as labels.Selector prints). */
export function formatSelector(selector: LabelSelector): string {
  const parts: [string, string][] = [];
  for (const [k, v] of Object.entries(selector.matchLabels ?? {})) parts.push([k, `${k}=${v}`]);
  for (const r of selector.matchExpressions ?? []) {
    const values = [...(r.values ?? [])].sort().join(',');
    const text =
      r.operator === 'In'
        ? `${r.key} in (${values})`
        : r.operator === 'NotIn'
          ? `${r.key} notin (${values})`
          : r.operator === 'Exists'
            ? r.key
            : `!${r.key}`;
    parts.push([r.key, text]);
  }
  return parts
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
    .map((p) => p[1])
    .join(',');
}
