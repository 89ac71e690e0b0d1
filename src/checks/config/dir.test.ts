import { mkdirSync, mkdtempSync, rmSync, writeFileSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../core/clock.js';
import type { CheckDirChange } from './dir.js';
import { loadCheckDir, watchCheckDir } from './dir.js';
import { checkLimits } from './limits.js';

const tcp = (name: string, port = 5432, interval = '30s'): string =>
  `name: ${name}\ntype: tcp\ninterval: ${interval}\ninstances: [{host: db, port: ${port}}]\n`;

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'fathom-checks-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const write = (name: string, text: string): void => writeFileSync(path.join(dir, name), text);
const names = (configs: readonly { name: string }[]): string[] => configs.map((c) => c.name);

describe('loadCheckDir', () => {
  it('loads *.yaml and *.yml in sorted order; a bad file is one error and the rest load', async () => {
    write('b.yml', `${tcp('b1')}---\n${tcp('b2', 1)}`);
    write('a.yaml', tcp('a'));
    write('c.yaml', 'name: c\ntype: tcp\ninstances: [{host: db, port: "x"}]\n');
    write('d.yaml', 'name: [d\n');
    write('notes.txt', 'not a check');
    mkdirSync(path.join(dir, 'sub.yaml'));
    write('e.yaml', '');
    const { configs, errors } = await loadCheckDir(dir);
    expect(names(configs)).toEqual(['a', 'b1', 'b2']);
    expect(configs.map((c) => c.source)).toEqual([
      `${dir}/a.yaml:1`,
      `${dir}/b.yml:1`,
      `${dir}/b.yml:6`,
    ]);
    expect(errors.map((e) => e.message)).toEqual([
      `${dir}/c.yaml:3:30: instances[0].port: must be an integer`,
      expect.stringMatching(new RegExp(`^${dir}/d\\.yaml:\\d+:\\d+: `)),
    ]);
    expect(errors.map((e) => e.code)).toEqual(['FATHOM_CHECK_INVALID', 'FATHOM_YAML_SYNTAX']);
  });

  it('loads a duplicate once and names both sources; an instance run twice is refused', async () => {
    write('a.yaml', tcp('web'));
    write('b.yaml', `# same content\n${tcp('web')}`);
    write('c.yaml', tcp('web', 5432, '1m'));
    const { configs, errors } = await loadCheckDir(dir);
    expect(configs).toHaveLength(1);
    expect(configs[0]!.source).toBe(`${dir}/a.yaml:1`);
    expect(errors.map((e) => e.message)).toEqual([
      `${dir}/b.yaml:2: repeats the check config "web" of ${dir}/a.yaml:1 (same content, digest ${configs[0]!.digest}): it runs once`,
      expect.stringMatching(
        new RegExp(
          `^${dir}/c\\.yaml:1: instances\\[0\\] of "web" is already run by the config at ${dir}/a\\.yaml:1 \\(check ID web:[0-9a-f]{16}\\)`,
        ),
      ),
    ]);
  });

  it('reports a missing directory, and bounds files and their size', async () => {
    const missing = await loadCheckDir(path.join(dir, 'none'));
    expect(missing.configs).toEqual([]);
    expect(missing.errors.map((e) => e.message)).toEqual([
      `${dir}/none: does not exist (no check configs)`,
    ]);
    write('big.yaml', `# ${'x'.repeat(checkLimits.fileBytes)}\n`);
    write('ok.yaml', tcp('ok'));
    const { configs, errors } = await loadCheckDir(dir);
    expect(names(configs)).toEqual(['ok']);
    expect(errors.map((e) => e.message)).toEqual([`${dir}/big.yaml: is over the 1 MiB limit`]);
  });

  it('reads at most the file limit of a directory, saying so', async () => {
    for (let i = 0; i <= checkLimits.directoryFiles; i++)
      write(`f${String(i).padStart(4, '0')}.yaml`, '');
    const { errors } = await loadCheckDir(dir);
    expect(errors.map((e) => e.message)).toEqual([
      `${dir}: holds 1001 *.yaml or *.yml files, over the limit of 1000: only the first 1000 (sorted) are read`,
    ]);
  });
});

describe('watchCheckDir', () => {
  it('picks up added, changed and removed configs on the clock, without a restart', async () => {
    const clock = new ManualClock();
    const abort = new AbortController();
    write('a.yaml', tcp('a'));
    const changes = watchCheckDir(dir, { clock, signal: abort.signal, intervalMs: 1000 });
    const next = async (): Promise<CheckDirChange> => {
      const step = changes.next();
      // Polls happen only when the clock moves: advance until the watcher reports.
      let done = false;
      void step.then(() => (done = true));
      await clock.runUntil(() => done, 1000, 60_000);
      const r = await step;
      if (r.done) throw new Error('watch ended');
      return r.value;
    };

    const first = await next();
    expect(names(first.added)).toEqual(['a']);
    expect(first.removed).toEqual([]);
    const a = first.added[0]!;

    write('b.yaml', tcp('b'));
    const added = await next();
    expect(names(added.added)).toEqual(['b']);
    expect(added.removed).toEqual([]);

    write('a.yaml', tcp('a', 6432)); // same size: the fingerprint still moves
    const changed = await next();
    expect(names(changed.added)).toEqual(['a']);
    expect(changed.added[0]!.digest).not.toBe(a.digest);
    expect(changed.removed.map((c) => c.digest)).toEqual([a.digest]);

    // A file that breaks keeps its last good configs; the error is reported once.
    write('b.yaml', 'name: b\ntype: tcp\ninstances: []\n');
    const broken = await next();
    expect(broken.added).toEqual([]);
    expect(broken.removed).toEqual([]);
    expect(broken.errors.map((e) => e.message)).toEqual([
      `${dir}/b.yaml:3:12: instances: must not be empty`,
    ]);

    unlinkSync(path.join(dir, 'b.yaml'));
    const removed = await next();
    expect(names(removed.removed)).toEqual(['b']);
    expect(removed.errors).toEqual([]);

    // A duplicate appears: reported as data, nothing added.
    write('c.yaml', tcp('a', 6432));
    const dup = await next();
    expect(dup.added).toEqual([]);
    expect(dup.errors[0]!.message).toContain(`${dir}/c.yaml:1: repeats the check config "a"`);
    // ... and when the first goes, the duplicate's content stays scheduled: no change to report.
    unlinkSync(path.join(dir, 'a.yaml'));
    const polls = clock.pending;
    await clock.advance(5000);
    expect(clock.pending).toBe(polls); // still polling, nothing yielded in between
    write('d.yaml', tcp('d'));
    const after = await next();
    expect(names(after.added)).toEqual(['d']);
    expect(after.removed).toEqual([]);

    // The directory goes: its checks go, said once; it comes back: they are back.
    rmSync(dir, { recursive: true });
    const gone = await next();
    expect(names(gone.removed).sort()).toEqual(['a', 'd']);
    expect(gone.errors.map((e) => e.message)).toEqual([
      `${dir}: does not exist (no check configs)`,
    ]);
    mkdirSync(dir);
    write('d.yaml', tcp('d'));
    const back = await next();
    expect(names(back.added)).toEqual(['d']);
    expect(back.errors).toEqual([]);

    abort.abort();
    await clock.advance(1000);
    expect((await changes.next()).done).toBe(true);
  });

  it('stops when the signal aborts while waiting', async () => {
    const clock = new ManualClock();
    const abort = new AbortController();
    const changes = watchCheckDir(dir, { clock, signal: abort.signal });
    expect((await changes.next()).value).toEqual({ added: [], removed: [], errors: [] });
    const rest = changes.next();
    await clock.whenSleeping();
    expect(clock.pendingDelays()).toEqual([5000]);
    abort.abort();
    expect((await rest).done).toBe(true);
    expect(clock.pending).toBe(0);
  });
});
