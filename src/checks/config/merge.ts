/**
 * One set of check configs out of many sources (files, ConfigMap keys, Services): each digest
 * once, each check ID once. Duplicates are errors naming both sources, never dispatched twice.
 */
import { FathomError } from '../../core/errors.js';
import type { CheckConfig } from '../types.js';
import { checkIds } from './identity.js';

export interface MergedConfigs {
  /** In source order; the first of equal configs wins. */
  readonly configs: readonly CheckConfig[];
  readonly errors: readonly FathomError[];
}

/**
 * Keeps the first config of each digest and refuses a later config that would run an instance
 * (a check ID) another config already runs: two configs differing only in interval, say. The
 * later one is left out and named with the first in the error.
 */
export function mergeConfigs(configs: Iterable<CheckConfig>): MergedConfigs {
  const byDigest = new Map<string, CheckConfig>();
  const byId = new Map<string, CheckConfig>();
  const kept: CheckConfig[] = [];
  const errors: FathomError[] = [];
  for (const config of configs) {
    const same = byDigest.get(config.digest);
    if (same) {
      errors.push(
        duplicate(
          config,
          same,
          `repeats the check config "${config.name}" of ${same.source} (same content, digest ${config.digest}): it runs once`,
        ),
      );
      continue;
    }
    const ids = checkIds(config);
    const clash = ids.findIndex((id) => byId.has(id));
    if (clash >= 0) {
      const other = byId.get(ids[clash]!)!;
      errors.push(
        duplicate(
          config,
          other,
          `instances[${clash}] of "${config.name}" is already run by the config at ${other.source} (check ID ${ids[clash]}): merge them or change one; this one is left out`,
        ),
      );
      continue;
    }
    byDigest.set(config.digest, config);
    for (const id of ids) byId.set(id, config);
    kept.push(config);
  }
  return { configs: kept, errors };
}

function duplicate(config: CheckConfig, first: CheckConfig, problem: string): FathomError {
  return new FathomError('FATHOM_CHECK_INVALID', `${config.source}: ${problem}`, {
    details: { sources: [first.source, config.source], digest: config.digest, name: config.name },
  });
}

/** What changed in a set of configs, by digest: a changed config is its old one removed and new one added. */
export interface CheckConfigChange {
  readonly added: readonly CheckConfig[];
  readonly removed: readonly CheckConfig[];
  /** Problems found since the last change (a source that broke, a duplicate that appeared). */
  readonly errors: readonly FathomError[];
}

/**
 * The configs a watcher has reported, so each new whole set becomes a change. Duplicate errors
 * are reported once, when they appear, not on every recomputation.
 */
export class ConfigSet {
  #current = new Map<string, CheckConfig>();
  #reported = new Set<string>();

  /** Replaces the whole set (in source order); `errors` are the sources' own, passed through. */
  replace(configs: Iterable<CheckConfig>, errors: readonly FathomError[] = []): CheckConfigChange {
    const merged = mergeConfigs(configs);
    const next = new Map(merged.configs.map((c) => [c.digest, c]));
    const added = merged.configs.filter((c) => !this.#current.has(c.digest));
    const removed = [...this.#current.values()].filter((c) => !next.has(c.digest));
    this.#current = next;
    const fresh = merged.errors.filter((e) => !this.#reported.has(e.message));
    this.#reported = new Set(merged.errors.map((e) => e.message));
    return { added, removed, errors: [...errors, ...fresh] };
  }

  get configs(): CheckConfig[] {
    return [...this.#current.values()];
  }
}

/** Whether a change has anything to report. */
export function isEmptyChange(change: CheckConfigChange): boolean {
  return !change.added.length && !change.removed.length && !change.errors.length;
}
