/**
 * A directory of check config files (`*.yaml`, `*.yml`, sorted, not recursive): loaded once, or
 * watched by polling on the injected clock. A bad file is one error; every other file loads.
 */
import type { BigIntStats } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { formatBytes, readFileAtMost } from '../../core/bounded.js';
import type { Clock } from '../../core/clock.js';
import { FathomError, messageOf } from '../../core/errors.js';
import type { CheckConfig } from '../types.js';
import { checkLimits } from './limits.js';
import { mergeConfigs } from './merge.js';
import { parseCheckText, sourceError } from './parse.js';

export interface CheckDirResult {
  readonly configs: readonly CheckConfig[];
  readonly errors: readonly FathomError[];
}

/** What changed since the last report, by digest: a changed config is its old one removed and new one added. */
export interface CheckDirChange {
  readonly added: readonly CheckConfig[];
  readonly removed: readonly CheckConfig[];
  /** Problems found by this poll (a file that broke, a duplicate that appeared), as data. */
  readonly errors: readonly FathomError[];
}

export interface WatchCheckDirOptions {
  readonly clock: Clock;
  /** Ends the watch. */
  readonly signal: AbortSignal;
  /** Time between polls; default 5 s. */
  readonly intervalMs?: number;
}

const isYamlFile = (name: string): boolean => /\.ya?ml$/.test(name);

/** A file as last read: its stat fingerprint and what it held. */
interface FileState {
  readonly fingerprint: string;
  readonly configs: readonly CheckConfig[];
}

/** mtime in nanoseconds, ctime, size and inode: a rewrite, a rename over it or a touch all change it. */
function fingerprintOf(info: BigIntStats): string {
  return `${info.mtimeNs}/${info.ctimeNs}/${info.size}/${info.ino}`;
}

/** The directory's config files, sorted; at most the limit, with an error past it. */
async function listFiles(dir: string): Promise<{ files: string[]; error?: FathomError }> {
  let names: string[];
  try {
    names = (await readdir(dir)).filter(isYamlFile).sort();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { files: [] };
    return { files: [], error: sourceError(dir, `cannot be listed: ${messageOf(err)}`) };
  }
  const limit = checkLimits.directoryFiles;
  if (names.length <= limit) return { files: names.map((n) => path.join(dir, n)) };
  return {
    files: names.slice(0, limit).map((n) => path.join(dir, n)),
    error: sourceError(
      dir,
      `holds ${names.length} *.yaml or *.yml files, over the limit of ${limit}: only the first ${limit} (sorted) are read`,
    ),
  };
}

/** Reads and parses one file; a read or parse problem is the error, never a throw. */
async function readConfigs(file: string): Promise<CheckConfig[] | FathomError> {
  try {
    const bytes = await readFileAtMost(file, checkLimits.fileBytes);
    if (!bytes) return sourceError(file, `is over the ${formatBytes(checkLimits.fileBytes)} limit`);
    return parseCheckText(bytes.toString('utf8'), file);
  } catch (err) {
    if (err instanceof FathomError) return err;
    return sourceError(file, `cannot be read: ${messageOf(err)}`);
  }
}

/**
 * Polls one directory. A file is re-read only when its fingerprint changed; one that no longer
 * parses keeps its last good configs (a half-written save does not unschedule its checks) and
 * its error is reported once per change.
 */
class DirPoller {
  readonly #files = new Map<string, FileState>();
  #dirError = '';
  #duplicates = new Set<string>();
  #current = new Map<string, CheckConfig>();
  #lastMerge: readonly FathomError[] = [];

  constructor(readonly dir: string) {}

  async poll(): Promise<CheckDirChange & { changed: boolean }> {
    const errors: FathomError[] = [];
    const { files, error } = await listFiles(this.dir);
    // A directory problem is reported when it appears or changes, not on every poll.
    if (error && error.message !== this.#dirError) errors.push(error);
    this.#dirError = error?.message ?? '';
    let changed = false;
    const listed = new Set(files);
    for (const file of [...this.#files.keys()]) {
      if (!listed.has(file) && !(error && files.length === 0)) {
        this.#files.delete(file);
        changed = true;
      }
    }
    for (const file of files) {
      let info: BigIntStats;
      try {
        info = await stat(file, { bigint: true });
      } catch {
        changed ||= this.#files.delete(file); // gone since listing: next poll agrees
        continue;
      }
      if (!info.isFile()) continue;
      const fingerprint = fingerprintOf(info);
      const before = this.#files.get(file);
      if (before?.fingerprint === fingerprint) continue;
      changed = true;
      const read = await readConfigs(file);
      if (read instanceof FathomError) errors.push(read);
      const configs = read instanceof FathomError ? (before?.configs ?? []) : read;
      this.#files.set(file, { fingerprint, configs });
    }
    if (!changed) return { changed, added: [], removed: [], errors };
    return { changed, ...this.#merge(), errors: [...errors, ...this.#newDuplicates()] };
  }

  /** The new set, in sorted file order, diffed by digest against the last one. */
  #merge(): { added: CheckConfig[]; removed: CheckConfig[] } {
    const sorted = [...this.#files.keys()].sort();
    const merged = mergeConfigs(sorted.flatMap((f) => this.#files.get(f)!.configs));
    this.#lastMerge = merged.errors;
    const next = new Map(merged.configs.map((c) => [c.digest, c]));
    const added = merged.configs.filter((c) => !this.#current.has(c.digest));
    const removed = [...this.#current.values()].filter((c) => !next.has(c.digest));
    this.#current = next;
    return { added, removed };
  }

  /** Duplicate errors not reported by an earlier poll. */
  #newDuplicates(): FathomError[] {
    const fresh = this.#lastMerge.filter((e) => !this.#duplicates.has(e.message));
    this.#duplicates = new Set(this.#lastMerge.map((e) => e.message));
    return fresh;
  }

  get configs(): CheckConfig[] {
    return [...this.#current.values()];
  }
}

/**
 * Loads every check config of `dir`. Each file that cannot be read or parsed, and each
 * duplicate, is one error; the configs of every other file load.
 */
export async function loadCheckDir(dir: string): Promise<CheckDirResult> {
  const poller = new DirPoller(dir);
  const { errors } = await poller.poll();
  return { configs: poller.configs, errors };
}

/**
 * Watches `dir`: first everything it holds (as `added`), then each change, polling every
 * `intervalMs` on the clock until the signal aborts. Problems are yielded as data.
 */
export async function* watchCheckDir(
  dir: string,
  options: WatchCheckDirOptions,
): AsyncGenerator<CheckDirChange, void, undefined> {
  const { clock, signal, intervalMs = 5000 } = options;
  const poller = new DirPoller(dir);
  const first = await poller.poll();
  yield { added: first.added, removed: first.removed, errors: first.errors };
  while (!signal.aborted) {
    try {
      await clock.sleep(intervalMs, signal);
    } catch {
      return; // aborted
    }
    const change = await poller.poll();
    if (change.added.length || change.removed.length || change.errors.length) {
      yield { added: change.added, removed: change.removed, errors: change.errors };
    }
  }
}
