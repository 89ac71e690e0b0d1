/**
 * Several config sources (a directory, the cluster's ConfigMaps and Services) as one: a digest
 * is added when the first source has it and removed when the last one drops it, so the same
 * config in two places is scheduled once and survives either being removed.
 */
import type { CheckConfigChange } from '../../checks/config/index.js';
import type { CheckConfig } from '../../checks/types.js';

export class SourceUnion {
  readonly #by: Map<string, CheckConfig>[] = [];

  /** What source `index`'s change means for the union. */
  apply(
    index: number,
    change: Pick<CheckConfigChange, 'added' | 'removed'>,
  ): { added: CheckConfig[]; removed: CheckConfig[] } {
    const own = (this.#by[index] ??= new Map());
    const held = (digest: string): boolean => this.#by.some((m) => m?.has(digest));
    const removed: CheckConfig[] = [];
    for (const c of change.removed) {
      if (!own.delete(c.digest)) continue;
      if (!held(c.digest)) removed.push(c);
    }
    const added: CheckConfig[] = [];
    for (const c of change.added) {
      const known = held(c.digest);
      own.set(c.digest, c);
      if (!known) added.push(c);
    }
    return { added, removed };
  }
}
