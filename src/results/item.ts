/**
 * The results tree Sonobuoy writes to `plugins/<p>/sonobuoy_results.yaml`, and the rules that
 * give every non-leaf its status. Leaves keep the status their parser (or plugin) gave them.
 */

/** One node of the results tree. Empty `meta`, `details` and `items` are left out (omitempty). */
export interface Item {
  name: string;
  status: string;
  meta?: Record<string, string>;
  details?: Record<string, unknown>;
  items?: Item[];
}

export const STATUS_PASSED = 'passed';
export const STATUS_FAILED = 'failed';
export const STATUS_SKIPPED = 'skipped';
export const STATUS_UNKNOWN = 'unknown';
export const STATUS_TIMEOUT = 'timeout';

export type BuiltinStatus = 'passed' | 'failed' | 'skipped' | 'unknown' | 'timeout';

/** `meta.type` values Sonobuoy uses for the structural levels. */
export type ItemType = 'summary' | 'node' | 'file';

const builtin = new Set<string>([
  STATUS_PASSED,
  STATUS_FAILED,
  STATUS_SKIPPED,
  STATUS_UNKNOWN,
  STATUS_TIMEOUT,
  '',
]);

/** True for anything but the five built-in statuses and "" (manual plugins may invent statuses). */
export function isCustomStatus(status: string): boolean {
  return !builtin.has(status);
}

/** Failed and timeout both count as failures. */
export function isFailureStatus(status: string): boolean {
  return status === STATUS_FAILED || status === STATUS_TIMEOUT;
}

/**
 * Reads a status already in the counted form `"a: 1, b: 2"`, as Sonobuoy does: each `", "`-part
 * is `name: count` or counts once (`"foo"` → foo: 1); a part whose count is not an integer is
 * ignored. "" counts as unknown.
 */
export function parseCounts(status: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const part of (status === '' ? STATUS_UNKNOWN : status).split(', ')) {
    const fields = part.split(': ');
    if (fields.length === 1) {
      out.set(part, (out.get(part) ?? 0) + 1);
      continue;
    }
    if (!/^[+-]?\d+$/.test(fields[1]!)) continue;
    out.set(fields[0]!, (out.get(fields[0]!) ?? 0) + Number(fields[1]));
  }
  return out;
}

/** `"a: 1, b: 2"`, sorted by status name. */
export function formatCounts(counts: ReadonlyMap<string, number>): string {
  return [...counts.keys()]
    .sort(compareStrings)
    .map((k) => `${k}: ${counts.get(k)!}`)
    .join(', ');
}

/** Byte-order comparison like Go's sort.Strings for the ASCII statuses seen in practice. */
export function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function hasCustomLeaf(item: Item): boolean {
  if (!item.items?.length) return isCustomStatus(item.status);
  return item.items.some(hasCustomLeaf);
}

/**
 * Recomputes every non-leaf status from its children, as Sonobuoy does after building the tree
 * (statuses written on non-leaves by parsers or plugins are overwritten):
 * - a leaf keeps its status ("" becomes unknown); a structural item built with no children is unknown;
 * - if any leaf in the tree has a custom status, every non-leaf becomes the counts of the statuses
 *   below it, `"<status>: <n>, ..."` sorted by name, summing children already in that form;
 * - otherwise any failed/timeout child → failed, else any unknown → unknown, else passed.
 * Also drops empty `meta`/`details`/`items` so the tree matches Go's omitempty output. Mutates and
 * returns `root`.
 */
export function aggregateTree(root: Item): Item {
  const counting = hasCustomLeaf(root);
  const visit = (item: Item): void => {
    prune(item);
    const children = item.items;
    if (!children) {
      if (item.status === '') item.status = STATUS_UNKNOWN;
      return;
    }
    for (const child of children) visit(child);
    item.status = counting ? countStatus(children) : plainStatus(children);
  };
  visit(root);
  return root;
}

function countStatus(children: readonly Item[]): string {
  const total = new Map<string, number>();
  for (const c of children) {
    for (const [k, n] of parseCounts(c.status)) total.set(k, (total.get(k) ?? 0) + n);
  }
  return formatCounts(total);
}

function plainStatus(children: readonly Item[]): string {
  let unknown = false;
  for (const c of children) {
    if (isFailureStatus(c.status)) return STATUS_FAILED;
    if (c.status === STATUS_UNKNOWN || c.status === '') unknown = true;
  }
  return unknown ? STATUS_UNKNOWN : STATUS_PASSED;
}

/** Removes empty optional fields in place. */
export function prune(item: Item): void {
  if (item.meta && Object.keys(item.meta).length === 0) delete item.meta;
  if (item.details && Object.keys(item.details).length === 0) delete item.details;
  if (item.items && item.items.length === 0) delete item.items;
}

/** Counts of leaf statuses under `item` ("" counted as unknown). */
export function leafCounts(item: Item): Record<string, number> {
  const counts: Record<string, number> = {};
  const walk = (i: Item): void => {
    if (i.items?.length) {
      for (const c of i.items) walk(c);
      return;
    }
    const s = i.status === '' ? STATUS_UNKNOWN : i.status;
    counts[s] = (counts[s] ?? 0) + 1;
  };
  walk(item);
  return counts;
}

/** Depth-first, the first item (the root included) whose name is `name`, as `-n node` does. */
export function findSubtree(root: Item, name: string): Item | undefined {
  if (name === '' || root.name === name) return root;
  for (const c of root.items ?? []) {
    const found = findSubtree(c, name);
    if (found) return found;
  }
  return undefined;
}

/** What the live status shows for a plugin: its result status and its leaf counts. */
export interface ResultSummary {
  status: string;
  counts: Record<string, number>;
}

/**
 * The `result-status`/`result-counts` pair. Without `node` (a Job plugin): the whole tree.
 * With `node` (a DaemonSet): the node items of that name (a node that has both results and
 * errors appears twice, as in Sonobuoy; both count); unknown with no counts when absent.
 */
export function summarize(item: Item, node?: string): ResultSummary {
  if (node === undefined) return { status: item.status, counts: leafCounts(item) };
  const nodes = (item.items ?? []).filter((c) => c.name === node && c.meta?.type === 'node');
  if (nodes.length === 0) {
    const found = findSubtree(item, node);
    return found
      ? { status: found.status, counts: leafCounts(found) }
      : { status: STATUS_UNKNOWN, counts: {} };
  }
  if (nodes.length === 1) return { status: nodes[0]!.status, counts: leafCounts(nodes[0]!) };
  const counts: Record<string, number> = {};
  for (const n of nodes) {
    for (const [k, v] of Object.entries(leafCounts(n))) counts[k] = (counts[k] ?? 0) + v;
  }
  const status = hasCustomLeaf(item) ? countStatus(nodes) : plainStatus(nodes);
  return { status, counts };
}
