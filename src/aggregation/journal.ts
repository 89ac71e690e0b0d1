import { closeSync, fdatasyncSync, openSync, renameSync, writeSync } from 'node:fs';
import { open, rename, writeFile } from 'node:fs/promises';
import { FathomError } from '../core/errors.js';
import type { ExpectedResult } from '../plugin/types.js';
import type { PluginRunStatus, ProgressUpdate, RunPhase, TarInfo } from './types.js';

/**
 * The aggregator's state as it changes, one JSON object per line, so that an aggregator killed
 * mid-run is restarted where it stopped: which results it expects, which it accepted, which are
 * errors, the last progress of each, when each plugin was launched (its timeout's start) and the
 * port workers dial. A result is journaled (and synced) before the worker hears 200.
 */
export type JournalRecord =
  | {
      readonly t: 'start';
      readonly at: number;
      readonly uuid: string;
      readonly port: number;
      readonly expected: readonly ExpectedResult[];
    }
  | { readonly t: 'launch'; readonly plugin: string; readonly at: number }
  | {
      readonly t: 'result';
      readonly key: string;
      readonly status: Exclude<PluginRunStatus, 'running'>;
    }
  | { readonly t: 'progress'; readonly key: string; readonly progress: ProgressUpdate }
  | { readonly t: 'phase'; readonly phase: RunPhase; readonly tarInfo?: TarInfo };

/** What a journal says, folded: the newest word on each key wins. */
export interface JournalState {
  readonly startedAt: number;
  readonly uuid: string;
  readonly port: number;
  readonly expected: readonly ExpectedResult[];
  readonly launched: ReadonlyMap<string, number>;
  readonly results: ReadonlyMap<string, Exclude<PluginRunStatus, 'running'>>;
  readonly progress: ReadonlyMap<string, ProgressUpdate>;
  readonly phase: RunPhase;
  readonly tarInfo?: TarInfo;
}

/** A journal is compacted (rewritten as its folded state) once this much was appended. */
const COMPACT_AFTER_BYTES = 4 * 1024 * 1024;
/** Refused when reading: far more than any compacted journal of a real run. */
export const MAX_JOURNAL_BYTES = 256 * 1024 * 1024;

function invalid(file: string, line: number, message: string): FathomError {
  return new FathomError('FATHOM_JOURNAL_INVALID', `${file}:${line}: ${message}`, {
    details: { file, line },
  });
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Checks one decoded line; the journal is ours, but a disk or a person may have changed it. */
function checkRecord(v: unknown): JournalRecord | string {
  if (!isObject(v)) return 'not a JSON object';
  const num = (k: string): boolean => typeof v[k] === 'number' && Number.isFinite(v[k]);
  const str = (k: string): boolean => typeof v[k] === 'string';
  switch (v.t) {
    case 'start': {
      const expected = v.expected;
      const ok =
        num('at') &&
        num('port') &&
        str('uuid') &&
        Array.isArray(expected) &&
        expected.every(
          (e) => isObject(e) && typeof e.plugin === 'string' && typeof e.node === 'string',
        );
      return ok ? (v as JournalRecord) : 'start record lacks at, uuid, port or expected';
    }
    case 'launch':
      return str('plugin') && num('at') ? (v as JournalRecord) : 'launch record lacks plugin or at';
    case 'result':
      return str('key') && (v.status === 'complete' || v.status === 'failed')
        ? (v as JournalRecord)
        : 'result record lacks key or status';
    case 'progress':
      return str('key') && isObject(v.progress)
        ? (v as JournalRecord)
        : 'progress record lacks key';
    case 'phase':
      return ['running', 'post-processing', 'complete', 'failed'].includes(v.phase as string)
        ? (v as JournalRecord)
        : 'phase record has no known phase';
    default:
      return `unknown record type ${JSON.stringify(v.t)}`;
  }
}

/**
 * Folds journal text into its state. A last line without its newline is a write the crash cut
 * short and is ignored; any other bad line is an error naming the file and line.
 */
export function parseJournal(text: string, file: string): JournalState | undefined {
  const lines = text.split('\n').slice(0, -1); // the part after the last newline is torn
  let state: MutableState | undefined;
  lines.forEach((line, i) => {
    if (line.trim() === '') return;
    let decoded: unknown;
    try {
      decoded = JSON.parse(line);
    } catch {
      throw invalid(file, i + 1, 'not JSON');
    }
    const record = checkRecord(decoded);
    if (typeof record === 'string') throw invalid(file, i + 1, record);
    if (!state && record.t !== 'start') {
      throw invalid(file, i + 1, 'the first record is not a start record');
    }
    state = apply(state, record);
  });
  return state ? Object.freeze(state) : undefined;
}

/** Reads a journal; undefined when there is none (a fresh run). */
export async function readJournal(file: string): Promise<JournalState | undefined> {
  let handle;
  try {
    handle = await open(file, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  try {
    const { size } = await handle.stat();
    if (size > MAX_JOURNAL_BYTES) {
      throw invalid(file, 0, `journal is over ${MAX_JOURNAL_BYTES} bytes`);
    }
    return parseJournal(await handle.readFile('utf8'), file);
  } finally {
    await handle.close();
  }
}

/** The records that say everything a state says, for compaction. */
export function stateRecords(state: JournalState): JournalRecord[] {
  return [
    {
      t: 'start',
      at: state.startedAt,
      uuid: state.uuid,
      port: state.port,
      expected: state.expected,
    },
    ...[...state.launched].map(([plugin, at]) => ({ t: 'launch' as const, plugin, at })),
    ...[...state.results].map(([key, status]) => ({ t: 'result' as const, key, status })),
    ...[...state.progress].map(([key, progress]) => ({ t: 'progress' as const, key, progress })),
    ...(state.phase === 'running'
      ? []
      : [
          {
            t: 'phase' as const,
            phase: state.phase,
            ...(state.tarInfo ? { tarInfo: state.tarInfo } : {}),
          },
        ]),
  ];
}

/** Appends records; synchronous so that records land in the order the changes happened. */
export interface JournalWriter {
  append(record: JournalRecord, options?: { sync?: boolean }): void;
  close(): void;
}

/**
 * Opens `file` for appending, first rewriting it from `state` when resuming (which drops
 * superseded progress lines). Rewrites it again whenever too much was appended.
 */
export async function openJournal(file: string, state?: JournalState): Promise<JournalWriter> {
  let fold: MutableState | undefined = state ? mutable(state) : undefined;
  if (state) await rewrite(file, stateRecords(state));
  let fd = openSync(file, 'a', 0o600);
  let appended = 0;
  return {
    append(record, options = {}) {
      const line = `${JSON.stringify(record)}\n`;
      writeSync(fd, line);
      if (options.sync) fdatasyncSync(fd);
      fold = apply(fold, record);
      appended += Buffer.byteLength(line);
      if (appended > COMPACT_AFTER_BYTES && fold) {
        closeSync(fd);
        rewriteSync(file, stateRecords(fold));
        fd = openSync(file, 'a', 0o600);
        appended = 0;
      }
    },
    close() {
      closeSync(fd);
    },
  };
}

type MutableState = {
  -readonly [K in keyof JournalState]: JournalState[K];
} & {
  launched: Map<string, number>;
  results: Map<string, Exclude<PluginRunStatus, 'running'>>;
  progress: Map<string, ProgressUpdate>;
};

function mutable(state: JournalState): MutableState {
  return {
    ...state,
    launched: new Map(state.launched),
    results: new Map(state.results),
    progress: new Map(state.progress),
  };
}

function apply(state: MutableState | undefined, record: JournalRecord): MutableState | undefined {
  if (record.t === 'start') {
    return {
      startedAt: record.at,
      uuid: record.uuid,
      port: record.port,
      expected: record.expected.map((e) => ({ plugin: e.plugin, node: e.node })),
      launched: new Map(),
      results: new Map(),
      progress: new Map(),
      phase: 'running',
    };
  }
  if (!state) return state;
  if (record.t === 'launch') state.launched.set(record.plugin, record.at);
  else if (record.t === 'result') state.results.set(record.key, record.status);
  else if (record.t === 'progress') state.progress.set(record.key, record.progress);
  else {
    state.phase = record.phase;
    if (record.tarInfo) state.tarInfo = record.tarInfo;
  }
  return state;
}

async function rewrite(file: string, records: readonly JournalRecord[]): Promise<void> {
  const tmp = `${file}.tmp`;
  await writeFile(tmp, records.map((r) => `${JSON.stringify(r)}\n`).join(''), { mode: 0o600 });
  await rename(tmp, file);
}

function rewriteSync(file: string, records: readonly JournalRecord[]): void {
  const tmp = `${file}.tmp`;
  const fd = openSync(tmp, 'w', 0o600);
  try {
    writeSync(fd, records.map((r) => `${JSON.stringify(r)}\n`).join(''));
    fdatasyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, file);
}
