import { readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { resultKey, type ExpectedResult } from '../plugin/types.js';
import { INCOMING_PREFIX, type AggregatorJournal, type RestoredState } from './aggregator.js';
import type { JournalState, JournalWriter } from './journal.js';
import type { PluginRunStatus } from './types.js';

/**
 * What a restarted aggregator trusts: the journal, corrected by the results tree. A result is
 * renamed into place before it is journaled, so a crash between the two leaves a directory the
 * journal does not name; that result was stored whole and counts as received.
 */
export async function reconcile(state: JournalState, outputDir: string): Promise<RestoredState> {
  const results = new Map(state.results);
  for (const e of state.expected) {
    const key = resultKey(e.plugin, e.node);
    if (results.has(key)) continue;
    const found = await storedStatus(outputDir, e);
    if (found) results.set(key, found);
  }
  // Uploads cut short by the crash: their senders were never answered and will send again.
  const leftovers = await readdir(outputDir).catch(() => [] as string[]);
  await Promise.all(
    leftovers
      .filter((name) => name.startsWith(INCOMING_PREFIX))
      .map((name) => rm(join(outputDir, name), { recursive: true, force: true })),
  );
  return { results, progress: state.progress };
}

async function storedStatus(
  outputDir: string,
  e: ExpectedResult,
): Promise<Exclude<PluginRunStatus, 'running'> | undefined> {
  const exists = (kind: string): Promise<boolean> =>
    stat(join(outputDir, 'plugins', e.plugin, kind, e.node)).then(
      (s) => s.isDirectory(),
      () => false,
    );
  if (await exists('errors')) return 'failed';
  if (await exists('results')) return 'complete';
  return undefined;
}

/** The aggregator's journal port, written through to the journal file. */
export function aggregatorJournal(writer: JournalWriter): AggregatorJournal {
  return {
    // Synced: the worker is told 200 only after this returns.
    result: (key, status) => writer.append({ t: 'result', key, status }, { sync: true }),
    progress: (key, progress) => writer.append({ t: 'progress', key, progress }),
  };
}
