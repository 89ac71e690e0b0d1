/** Shared by the sessions tests: a seeded generator, nodes in pools. */
import type { ClusterNode } from '../core/nodes.js';

/** mulberry32: small, seeded, so a failing sequence reproduces from its seed. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** An integer in [0, n). */
export const below = (next: () => number, n: number): number => Math.floor(next() * n);

/** `count` nodes named `<pool>-<i>` labelled pool=<pool>, for each pool. */
export function nodesIn(pools: Record<string, number>, key = 'pool'): ClusterNode[] {
  return Object.entries(pools).flatMap(([pool, count]) =>
    Array.from({ length: count }, (_, i) => ({ name: `${pool}-${i}`, labels: { [key]: pool } })),
  );
}
