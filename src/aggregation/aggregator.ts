import { mkdir, mkdtemp, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import type { Clock } from '../core/clock.js';
import { FathomError } from '../core/errors.js';
import { safeSegment } from '../core/segment.js';
import { resultKey, type ExpectedResult } from '../plugin/types.js';
import {
  checkDeclaredSize,
  DEFAULT_FILENAME,
  extractTarball,
  storeError,
  writeBodyToFile,
} from './ingest.js';
import { mergeProgress, parseProgressUpdate } from './progress.js';
import { watchUpload } from './upload-watch.js';
import type { PluginRunStatus, PluginStatusEntry, ProgressUpdate } from './types.js';

/** The content type that makes an upload a tarball to unpack (compared exactly, as Sonobuoy does). */
export const GZIP_CONTENT_TYPE = 'application/gzip';

/** Sonobuoy enforces no limit; fathom refuses uploads over 10 GiB unless told otherwise. */
export const DEFAULT_MAX_RESULT_BYTES = 10 * 1024 ** 3;

/** Scratch directories for uploads in flight live in the output directory under this prefix. */
export const INCOMING_PREFIX = '.incoming-';

/** An upload that sends nothing for this long is cut off (408) and its partial file discarded. */
export const DEFAULT_UPLOAD_IDLE_MS = 60_000;
/** No upload may take longer than this, however steadily it trickles (408). */
export const DEFAULT_UPLOAD_DEADLINE_MS = 60 * 60_000;

/** Where the aggregator records each change before it is acknowledged (crash recovery). */
export interface AggregatorJournal {
  result(key: string, status: Exclude<PluginRunStatus, 'running'>): void;
  progress(key: string, progress: ProgressUpdate): void;
}

/** What a restarted aggregator already had: results accepted or failed, and the last progress. */
export interface RestoredState {
  readonly results: ReadonlyMap<string, Exclude<PluginRunStatus, 'running'>>;
  readonly progress: ReadonlyMap<string, ProgressUpdate>;
}

export interface AggregatorOptions {
  /** The results tree (`plugins/<p>/results/<node>/...` is written below it). */
  outputDir: string;
  expected: readonly ExpectedResult[];
  clock: Clock;
  /** Largest upload accepted, compressed and unpacked alike; default 10 GiB. */
  maxResultBytes?: number;
  /** An upload idle this long fails with FATHOM_UPLOAD_STALLED; default 60 s. */
  uploadIdleMs?: number;
  /** An upload still running after this long fails with FATHOM_UPLOAD_STALLED; default 1 h. */
  uploadDeadlineMs?: number;
  journal?: AggregatorJournal;
  /** State from the journal of an aggregator that stopped before the run was done. */
  restored?: RestoredState;
}

export interface IncomingResult {
  plugin: string;
  /** `global` for a Job plugin. */
  node: string;
  contentType?: string;
  /** From `content-disposition`; default `result`. Ignored for tarballs. */
  filename?: string;
  /** Streamed to disk. The aggregator never destroys it: on rejection it is left unread or unpiped. */
  body: Readable;
  /** The declared length (Content-Length), refused up front when over the limit. */
  size?: number;
}

export interface Aggregator {
  /** Stores one uploaded result; throws FathomError FATHOM_RESULT_UNEXPECTED(403) / _DUPLICATE(409) / _TOO_LARGE(413) / _BAD_ARCHIVE(400) / _BAD_NAME(400) / _WRITE_FAILED(500). */
  ingest(result: IncomingResult): Promise<void>;
  /**
   * Records a Monitor error or timeout as Sonobuoy does (plugins/<p>/errors/<node>/error.json,
   * JSON of the object); false if that result was already received. Throws
   * FATHOM_RESULT_UNEXPECTED for a key that is not expected (Sonobuoy drops those).
   */
  recordError(
    plugin: string,
    node: string,
    error: { error: string } & Record<string, unknown>,
    options?: RecordErrorOptions,
  ): Promise<boolean>;
  /** Merges a progress update (including the appending kind); throws FATHOM_PROGRESS_INVALID(400) / FATHOM_RESULT_UNEXPECTED(403). */
  updateProgress(plugin: string, node: string, body: unknown): ProgressUpdate;
  /** One per expected result, in the order given, status running|complete|failed, with progress. */
  entries(): PluginStatusEntry[];
  /** Expected results with nothing stored yet (a failed write leaves its key here). */
  pending(): ExpectedResult[];
  isComplete(): boolean;
  /** Resolves once every expected result is complete or failed; rejects with the signal's reason. */
  whenComplete(signal?: AbortSignal): Promise<void>;
  /** Called after every change (result, error, progress); returns an unsubscribe function. */
  onChange(listener: () => void): () => void;
}

export interface RecordErrorOptions {
  /**
   * Abort an upload in flight for this key instead of waiting for it (a timeout must win over a
   * stalled upload); its partial file is discarded and its sender gets 409.
   */
  readonly preempt?: boolean;
}

interface Slot {
  readonly expected: ExpectedResult;
  readonly key: string;
  status: PluginRunStatus;
  progress?: ProgressUpdate;
  /** Serialises stores for one key, as Sonobuoy's results mutex does. */
  lock: Promise<void>;
  /** Aborts the upload being stored, if any. */
  inflight?: AbortController;
}

class FileAggregator implements Aggregator {
  readonly #outputDir: string;
  readonly #clock: Clock;
  readonly #maxBytes: number;
  readonly #idleMs: number;
  readonly #deadlineMs: number;
  readonly #journal: AggregatorJournal | undefined;
  readonly #slots = new Map<string, Slot>();
  readonly #listeners = new Set<() => void>();

  constructor(options: AggregatorOptions) {
    this.#outputDir = options.outputDir;
    this.#clock = options.clock;
    this.#maxBytes = options.maxResultBytes ?? DEFAULT_MAX_RESULT_BYTES;
    this.#idleMs = options.uploadIdleMs ?? DEFAULT_UPLOAD_IDLE_MS;
    this.#deadlineMs = options.uploadDeadlineMs ?? DEFAULT_UPLOAD_DEADLINE_MS;
    this.#journal = options.journal;
    for (const e of options.expected) {
      const key = resultKey(e.plugin, e.node);
      if (!this.#slots.has(key)) {
        const progress = options.restored?.progress.get(key);
        this.#slots.set(key, {
          expected: { plugin: e.plugin, node: e.node },
          key,
          status: options.restored?.results.get(key) ?? 'running',
          ...(progress ? { progress: structuredClone(progress) } : {}),
          lock: Promise.resolve(),
        });
      }
    }
  }

  async ingest(result: IncomingResult): Promise<void> {
    safeSegment('plugin', result.plugin);
    safeSegment('node', result.node);
    const archive = result.contentType === GZIP_CONTENT_TYPE;
    const filename = result.filename || DEFAULT_FILENAME;
    if (!archive) safeSegment('file', filename);
    const slot = this.#slot(result.plugin, result.node, 'result');
    // The body may fail while this upload waits for the key's lock: that must reject this
    // ingest (the writers see the destroyed stream), never crash the process.
    const ignore = (): void => undefined;
    result.body.on('error', ignore);
    try {
      await this.#ingestLocked(slot, result, archive, filename);
    } finally {
      result.body.off('error', ignore);
    }
    this.#changed();
  }

  async #ingestLocked(
    slot: Slot,
    result: IncomingResult,
    archive: boolean,
    filename: string,
  ): Promise<void> {
    await this.#locked(slot, async () => {
      // As in Sonobuoy, a Monitor error or timeout counts as received: a late upload gets 409
      // (which Sonobuoy's worker treats as success), so the result cannot change under a run
      // that has already moved on. Only a failed write leaves the key open for a retry.
      if (slot.status !== 'running') {
        throw new FathomError('FATHOM_RESULT_DUPLICATE', `result ${slot.key} already received`, {
          details: { key: slot.key },
        });
      }
      checkDeclaredSize(result.size, this.#maxBytes);
      const dest = join(this.#outputDir, 'plugins', result.plugin, 'results', result.node);
      const inflight = new AbortController();
      slot.inflight = inflight;
      const watch = watchUpload(slot.key, inflight, {
        clock: this.#clock,
        idleMs: this.#idleMs,
        deadlineMs: this.#deadlineMs,
      });
      try {
        await this.#store(dest, (payload) =>
          archive
            ? extractTarball(result.body, payload, this.#maxBytes, watch.control)
            : writeBodyToFile(result.body, join(payload, filename), this.#maxBytes, watch.control),
        );
      } finally {
        watch.stop();
        slot.inflight = undefined;
      }
      slot.status = 'complete';
      // A worker that cannot read its result sends `{"error": ...}` with no file name. Sonobuoy
      // stores that as a result named `result`; fathom records it as the error it is.
      if (
        !archive &&
        filename === DEFAULT_FILENAME &&
        result.contentType?.startsWith('application/json')
      ) {
        const reported = await workerReportedError(join(dest, DEFAULT_FILENAME));
        if (reported) {
          await rm(dest, { recursive: true, force: true });
          await this.#writeError(result.plugin, result.node, reported);
          slot.status = 'failed';
        }
      }
      // Journaled (and synced) before the sender hears 200: an accepted result survives a crash.
      this.#journal?.result(slot.key, slot.status);
    });
  }

  async #writeError(plugin: string, node: string, error: Record<string, unknown>): Promise<void> {
    const dest = join(this.#outputDir, 'plugins', plugin, 'errors', node);
    await this.#store(dest, (payload) =>
      writeFile(join(payload, 'error.json'), JSON.stringify(error), { mode: 0o644 }),
    );
  }

  async recordError(
    plugin: string,
    node: string,
    error: { error: string } & Record<string, unknown>,
    options: RecordErrorOptions = {},
  ): Promise<boolean> {
    safeSegment('plugin', plugin);
    safeSegment('node', node);
    const slot = this.#slot(plugin, node, 'result');
    if (options.preempt) {
      slot.inflight?.abort(
        new FathomError(
          'FATHOM_RESULT_DUPLICATE',
          `result ${slot.key} already received: ${error.error}`,
          {
            details: { key: slot.key },
          },
        ),
      );
    }
    const recorded = await this.#locked(slot, async () => {
      if (slot.status !== 'running') return false;
      await this.#writeError(plugin, node, error);
      slot.status = 'failed';
      this.#journal?.result(slot.key, 'failed');
      return true;
    });
    if (recorded) this.#changed();
    return recorded;
  }

  updateProgress(plugin: string, node: string, body: unknown): ProgressUpdate {
    const slot = this.#slot(plugin, node, 'progress update for');
    const timestamp = new Date(this.#clock.now()).toISOString();
    const update = parseProgressUpdate(body, { plugin, node, timestamp });
    slot.progress = mergeProgress(slot.progress, update);
    this.#journal?.progress(slot.key, slot.progress);
    this.#changed();
    return structuredClone(slot.progress);
  }

  entries(): PluginStatusEntry[] {
    return [...this.#slots.values()].map((s) => ({
      plugin: s.expected.plugin,
      node: s.expected.node,
      status: s.status,
      'result-status': '',
      'result-counts': null,
      ...(s.progress ? { progress: structuredClone(s.progress) } : {}),
    }));
  }

  pending(): ExpectedResult[] {
    return [...this.#slots.values()]
      .filter((s) => s.status === 'running')
      .map((s) => ({ ...s.expected }));
  }

  isComplete(): boolean {
    return [...this.#slots.values()].every((s) => s.status !== 'running');
  }

  whenComplete(signal?: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      if (signal?.aborted) return reject(abortReason(signal));
      if (this.isComplete()) return resolve();
      const onAbort = (): void => {
        unsubscribe();
        reject(abortReason(signal!));
      };
      const unsubscribe = this.onChange(() => {
        if (!this.isComplete()) return;
        unsubscribe();
        signal?.removeEventListener('abort', onAbort);
        resolve();
      });
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  onChange(listener: () => void): () => void {
    // Wrapped so the same function may subscribe twice and unsubscribe each independently.
    const entry = (): void => listener();
    this.#listeners.add(entry);
    return () => void this.#listeners.delete(entry);
  }

  #slot(plugin: string, node: string, what: string): Slot {
    const key = resultKey(plugin, node);
    const slot = this.#slots.get(key);
    if (!slot) {
      throw new FathomError('FATHOM_RESULT_UNEXPECTED', `${what} ${key} unexpected`, {
        details: { key },
      });
    }
    return slot;
  }

  async #locked<T>(slot: Slot, work: () => Promise<T>): Promise<T> {
    const previous = slot.lock;
    let release!: () => void;
    slot.lock = new Promise<void>((r) => (release = r));
    await previous;
    try {
      return await work();
    } finally {
      release();
    }
  }

  /**
   * Writes into a fresh scratch directory inside the output directory and renames it to `dest`
   * only when `write` succeeded, so a failed or refused upload leaves nothing behind.
   */
  async #store(dest: string, write: (payload: string) => Promise<void>): Promise<void> {
    let scratch: string | undefined;
    try {
      await mkdir(this.#outputDir, { recursive: true });
      scratch = await mkdtemp(join(this.#outputDir, INCOMING_PREFIX));
      const payload = join(scratch, 'payload');
      await mkdir(payload, { mode: 0o755 });
      await write(payload);
      await mkdir(dirname(dest), { recursive: true, mode: 0o755 });
      await rm(dest, { recursive: true, force: true }); // a leftover no stored result owns
      await rename(payload, dest);
    } catch (err) {
      throw storeError(err, false);
    } finally {
      if (scratch) await rm(scratch, { recursive: true, force: true }).catch(() => undefined);
    }
  }

  #changed(): void {
    for (const listener of [...this.#listeners]) {
      try {
        listener();
      } catch {
        // a listener's failure must not undo or block the change that was stored
      }
    }
  }
}

function abortReason(signal: AbortSignal): Error {
  return signal.reason instanceof Error ? signal.reason : new Error('aborted');
}

/** Makes an aggregator that expects exactly `options.expected` and stores results under `outputDir`. */
export function createAggregator(options: AggregatorOptions): Aggregator {
  return new FileAggregator(options);
}

/** The `{"error": "..."}` body of a worker that could not read its result, if that is what the file holds. */
async function workerReportedError(file: string): Promise<{ error: string } | undefined> {
  const info = await stat(file).catch(() => undefined);
  if (!info || info.size > 64 * 1024) return undefined;
  try {
    const value = JSON.parse(await readFile(file, 'utf8')) as unknown;
    const error = (value as { error?: unknown } | null)?.error;
    return typeof error === 'string' && Object.keys(value as object).length === 1
      ? { error }
      : undefined;
  } catch {
    return undefined;
  }
}
