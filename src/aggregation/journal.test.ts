import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isFathomError } from '../core/errors.js';
import { openJournal, parseJournal, readJournal, type JournalRecord } from './journal.js';
import type { ProgressUpdate } from './types.js';

const start: JournalRecord = {
  t: 'start',
  at: 1000,
  uuid: 'u-1',
  port: 4443,
  expected: [
    { plugin: 'e2e', node: 'global' },
    { plugin: 'logs', node: 'node-1' },
  ],
};
const progress = (completed: number): ProgressUpdate => ({
  name: 'e2e',
  node: 'global',
  timestamp: '2026-01-01T00:00:00Z',
  msg: `at ${completed}`,
  total: 10,
  completed,
});
const lines = (...records: JournalRecord[]): string =>
  records.map((r) => `${JSON.stringify(r)}\n`).join('');

describe('parseJournal', () => {
  it('folds records: the newest word on each key wins', () => {
    const state = parseJournal(
      lines(
        start,
        { t: 'launch', plugin: 'e2e', at: 1100 },
        { t: 'progress', key: 'e2e/global', progress: progress(1) },
        { t: 'progress', key: 'e2e/global', progress: progress(7) },
        { t: 'result', key: 'logs/node-1', status: 'failed' },
        { t: 'phase', phase: 'post-processing' },
      ),
      'j',
    )!;
    expect(state.port).toBe(4443);
    expect(state.expected).toEqual(start.t === 'start' ? start.expected : []);
    expect([...state.launched]).toEqual([['e2e', 1100]]);
    expect(state.progress.get('e2e/global')?.completed).toBe(7);
    expect([...state.results]).toEqual([['logs/node-1', 'failed']]);
    expect(state.phase).toBe('post-processing');
    expect(Object.isFrozen(state)).toBe(true);
  });

  it('ignores a last line the crash cut short', () => {
    const text = lines(start) + '{"t":"result","key":"e2e/glo';
    expect(parseJournal(text, 'j')!.results.size).toBe(0);
  });

  it.each([
    ['not JSON', `${lines(start)}{oops\n`, 'j:2: not JSON'],
    ['an unknown record', `${lines(start)}{"t":"nope"}\n`, 'j:2: unknown record type "nope"'],
    ['a bad status', `${lines(start)}{"t":"result","key":"k","status":"maybe"}\n`, 'j:2: result'],
    ['no start record', lines({ t: 'launch', plugin: 'e2e', at: 1 }), 'j:1: the first record'],
  ])('names the file and line of %s', (_what, text, message) => {
    try {
      parseJournal(text, 'j');
      expect.unreachable();
    } catch (err) {
      expect(isFathomError(err, 'FATHOM_JOURNAL_INVALID')).toBe(true);
      expect((err as Error).message).toContain(message);
    }
  });

  it('is empty for an empty journal', () => {
    expect(parseJournal('', 'j')).toBeUndefined();
  });
});

describe('openJournal', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'fathom-journal-'));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('appends records a reader folds back, in a file only its owner reads', async () => {
    const file = join(dir, 'journal.jsonl');
    expect(await readJournal(file)).toBeUndefined();
    const writer = await openJournal(file);
    writer.append(start, { sync: true });
    writer.append({ t: 'result', key: 'e2e/global', status: 'complete' }, { sync: true });
    writer.close();
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect([...(await readJournal(file))!.results]).toEqual([['e2e/global', 'complete']]);
  });

  it('rewrites a resumed journal as its state, dropping superseded progress', async () => {
    const file = join(dir, 'journal.jsonl');
    const many = Array.from({ length: 50 }, (_, i): JournalRecord => ({
      t: 'progress',
      key: 'e2e/global',
      progress: progress(i),
    }));
    await writeFile(file, lines(start, ...many));
    const state = await readJournal(file);
    const writer = await openJournal(file, state);
    writer.close();
    const text = await readFile(file, 'utf8');
    expect(text.trim().split('\n')).toHaveLength(2);
    expect((await readJournal(file))!.progress.get('e2e/global')?.completed).toBe(49);
  });

  it('compacts itself once megabytes of progress were appended', async () => {
    const file = join(dir, 'journal.jsonl');
    const writer = await openJournal(file);
    writer.append(start);
    const big = { ...progress(0), msg: 'x'.repeat(64 * 1024) };
    for (let i = 0; i < 100; i++) {
      writer.append({ t: 'progress', key: 'e2e/global', progress: { ...big, completed: i } });
    }
    writer.close();
    // 100 updates of 64 KiB went by; the file keeps about one of them per compaction window.
    expect((await stat(file)).size).toBeLessThan(4.5 * 1024 * 1024);
    expect((await readJournal(file))!.progress.get('e2e/global')?.completed).toBe(99);
  });
});
