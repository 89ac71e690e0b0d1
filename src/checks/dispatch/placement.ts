/**
 * Where a config may go and where it goes, as pure functions of the nodes (the original's
 * `getNodeToScheduleCheck`): compatibility and node selectors decide the candidates; the count
 * strategy takes the node with fewest configs (sorted-name tie-break), the random strategies
 * (busyness, utilization: the original's advanced dispatching) a uniformly random candidate.
 */
import type { CheckConfig } from '../types.js';

/** What placement needs to know about a node. */
export interface PlacementNode {
  readonly name: string;
  /** Configs placed on it now. */
  readonly load: number;
  readonly labels: Readonly<Record<string, string>>;
  /** The agent's `check_compatibility`; absent: it runs any check. */
  readonly compat?: CheckCompatibility;
}

export interface CheckCompatibility {
  readonly include: readonly string[];
  readonly exclude: readonly string[];
}

export type Strategy = 'count' | 'busyness' | 'utilization' | 'hashing';

export const strategies: readonly Strategy[] = ['count', 'busyness', 'utilization', 'hashing'];

/** Whether a restricted node (one that declared compatibility) accepts check `name`. */
export function compatible(compat: CheckCompatibility, name: string): boolean {
  if (compat.exclude.includes(name)) return false;
  return compat.include.length === 0 || compat.include.includes(name);
}

function selected(node: PlacementNode, selector: CheckConfig['nodeSelector']): boolean {
  if (!selector) return true;
  for (const [k, v] of Object.entries(selector)) if (node.labels[k] !== v) return false;
  return true;
}

/**
 * The nodes that may run `config`, sorted by name. If any restricted node accepts the check,
 * only restricted nodes are candidates; otherwise the unrestricted ones are.
 */
export function candidates<N extends PlacementNode>(
  nodes: Iterable<N>,
  config: Pick<CheckConfig, 'name' | 'nodeSelector'>,
): N[] {
  const restricted: N[] = [];
  const open: N[] = [];
  for (const n of nodes) {
    if (!selected(n, config.nodeSelector)) continue;
    if (!n.compat) open.push(n);
    else if (compatible(n.compat, config.name)) restricted.push(n);
  }
  const out = restricted.length ? restricted : open;
  return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** Whether `node` is among the candidates for `config` given all `nodes` (a misplaced config is not). */
export function eligible(
  nodes: Iterable<PlacementNode>,
  config: Pick<CheckConfig, 'name' | 'nodeSelector'>,
  node: string,
): boolean {
  return candidates(nodes, config).some((n) => n.name === node);
}

/** The candidate with fewest configs; the first by name among equals. Undefined when none. */
export function fewestConfigs(sorted: readonly PlacementNode[]): string | undefined {
  let best: PlacementNode | undefined;
  for (const n of sorted) if (!best || n.load < best.load) best = n;
  return best?.name;
}

/** A uniformly random candidate (`random` in [0, 1)). Undefined when none. */
export function randomNode(
  sorted: readonly PlacementNode[],
  random: () => number,
): string | undefined {
  if (!sorted.length) return undefined;
  return sorted[Math.min(sorted.length - 1, Math.floor(random() * sorted.length))]!.name;
}
