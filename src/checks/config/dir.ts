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
import type { CheckConfigChange } from './merge.js';
import { ConfigSet, isEmptyChange } from './merge.js';
import { parseCheckText, sourceError } from './parse.js';

export interface CheckDirResult {
  readonly configs: readonly CheckConfig[];
  readonly errors: readonly FathomError[];
}

/** What one poll found changed. */
export type CheckDirChange = CheckConfigChange;

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
async function listFiles(
  dir: string,
): Promise<{ files: string[]; error?: FathomError; unreadable?: true }> {
  let names: string[];
  try {
    names = (await readdir(dir)).filter(isYamlFile).sort();
  } catch (err) {
    // A directory that is gone holds no checks; one that cannot be read keeps what it had.
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      return { files: [], error: sourceError(dir, 'does not exist (no check configs)') };
    }
    const error = sourceError(dir, `cannot be listed: ${messageOf(err)}`);
    return { files: [], error, unreadable: true };
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
  readonly #set = new ConfigSet();
  #dirError = '';

  constructor(readonly dir: string) {}

  /** Undefined when no file changed. */
  async poll(): Promise<CheckDirChange | undefined> {
    const errors: FathomError[] = [];
    const { files, error, unreadable } = await listFiles(this.dir);
    // A directory problem is reported when it appears or changes, not on every poll.
    if (error && error.message !== this.#dirError) errors.push(error);
    this.#dirError = error?.message ?? '';
    let changed = errors.length > 0;
    const listed = new Set(files);
    for (const file of [...this.#files.keys()]) {
      if (!listed.has(file) && !unreadable) {
        this.#files.delete(file);
        changed = true;
      }
    }
    for (const file of files) {
      let info: BigIntStats;
      try {
        info = await stat(file, { bigint: true });
      } catch {
        changed = this.#files.delete(file) || changed; // gone since listing
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
    if (!changed) return undefined;
    // Sorted file order: the first of equal configs is the one kept.
    const sorted = [...this.#files.keys()].sort();
    return this.#set.replace(
      sorted.flatMap((f) => this.#files.get(f)!.configs),
      errors,
    );
  }

  get configs(): CheckConfig[] {
    return this.#set.configs;
  }
}

/**
 * Loads every check config of `dir`. Each file that cannot be read or parsed, and each
 * duplicate, is one error; the configs of every other file load.
 */
export async function loadCheckDir(dir: string): Promise<CheckDirResult> {
  const poller = new DirPoller(dir);
  const change = await poller.poll();
  return { configs: poller.configs, errors: change?.errors ?? [] };
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
  yield (await poller.poll()) ?? { added: [], removed: [], errors: [] };
  while (!signal.aborted) {
    try {
      await clock.sleep(intervalMs, signal);
    } catch {
      return; // aborted
    }
    const change = await poller.poll();
    if (change && !isEmptyChange(change)) yield change;
  }
}
