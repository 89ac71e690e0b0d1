import { existsSync, watch } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../core/clock.js';
import type { CheckConfig, CheckInstance, CheckType } from '../types.js';
import { runWith } from './index.js';
import { instanceWorkDir, Scheduler, type ScheduledCheck } from './scheduler.js';
import type { RunContext, RunOutcome, Runner } from './types.js';

const T0 = Date.UTC(2026, 0, 1);

function scheduled(
  name: string,
  instance: CheckInstance,
  {
    intervalMs = 10_000,
    timeoutMs = 5000,
    type = 'command',
    digest = `d-${name}`,
  }: { intervalMs?: number; timeoutMs?: number; type?: CheckType; digest?: string } = {},
): ScheduledCheck {
  const config: CheckConfig = {
    name,
    type,
    intervalMs,
    timeoutMs,
    instances: [instance],
    source: 'test',
    digest,
  };
  return { id: `${name}:0000000000000000`, config, instance };
}

/**
 * A `command` runner that takes `instance.ms` on the clock (forever when absent) and answers
 * `instance.status`, recording each start; runs go through runWith, so timeouts are real.
 */
function harness(workers?: number) {
  const clock = new ManualClock(T0);
  const starts: [string, number][] = [];
  const signals: AbortSignal[] = [];
  let active = 0;
  let maxActive = 0;
  const perName = new Map<string, number>();
  const runner: Runner<CheckInstance> = async (instance, ctx: RunContext): Promise<RunOutcome> => {
    const name = instance.name as string;
    starts.push([name, clock.now() - T0]);
    signals.push(ctx.signal);
    active++;
    maxActive = Math.max(maxActive, active);
    perName.set(name, (perName.get(name) ?? 0) + 1);
    if (perName.get(name)! > 1) throw new Error(`two runs of ${name} at once`);
    try {
      const ms = instance.ms as number | undefined;
      await clock.sleep(ms ?? Number.MAX_SAFE_INTEGER, ctx.signal);
      return {
        status: (instance.status as RunOutcome['status']) ?? 'ok',
        message: `${name} done`,
        metrics: { a: 1, b: 2 },
      };
    } finally {
      active--;
      perName.set(name, perName.get(name)! - 1);
    }
  };
  const scheduler = new Scheduler({
    clock,
    ...(workers ? { workers } : {}),
    run: (type, instance, ctx) => runWith({ command: runner }, type, instance, ctx),
  });
  return { clock, scheduler, starts, signals, maxActive: () => maxActive };
}

const startsOf = (starts: [string, number][], name: string): number[] =>
  starts.filter(([n]) => n === name).map(([, t]) => t);

describe('Scheduler', () => {
  it('runs at once, then every interval after the previous start, and records each run', async () => {
    const h = harness();
    h.scheduler.set([scheduled('a', { name: 'a', ms: 2000 })]);
    await h.clock.advance(31_000);
    expect(startsOf(h.starts, 'a')).toEqual([0, 10_000, 20_000, 30_000]);
    const [res] = h.scheduler.results();
    expect(res!.history.runs.map((r) => [r.startedAt - T0, r.durationMs])).toEqual([
      [0, 2000],
      [10_000, 2000],
      [20_000, 2000],
    ]);
    expect(res!.running).toBe(true);
    expect(res!.last).toMatchObject({ status: 'ok', message: 'a done', metrics: { a: 1, b: 2 } });
    expect(h.scheduler.stats()).toEqual({
      'a:0000000000000000': {
        AverageExecutionTime: 2000,
        MetricSamples: 2,
        HistogramBuckets: 0,
        Events: 0,
        IsClusterCheck: true,
        LastExecFailed: false,
        TotalRuns: 3,
        TotalErrors: 0,
      },
    });
    await h.scheduler.stop();
  });

  it('a run that overruns its interval delays the next one, never overlaps it', async () => {
    const h = harness();
    h.scheduler.set([scheduled('slow', { name: 'slow', ms: 4000 }, { intervalMs: 3000 })]);
    await h.clock.advance(13_000);
    // The runner throws on a second concurrent run: none happened.
    expect(startsOf(h.starts, 'slow')).toEqual([0, 4000, 8000, 12_000]);
    expect(h.scheduler.results()[0]!.history.runs.every((r) => r.status === 'ok')).toBe(true);
    await h.scheduler.stop();
  });

  it('runs at most `workers` at once; the rest wait for a free worker', async () => {
    const h = harness(2);
    h.scheduler.set(
      ['a', 'b', 'c'].map((n) => scheduled(n, { name: n, ms: 5000 }, { intervalMs: 60_000 })),
    );
    await h.clock.advance(0);
    expect(h.starts.map(([n]) => n).sort()).toEqual(['a', 'b']);
    await h.clock.advance(5000);
    expect(startsOf(h.starts, 'c')).toEqual([5000]);
    expect(h.maxActive()).toBe(2);
    await h.scheduler.stop();
  });

  it('a hanging check holds one worker only until its timeout; the others keep their schedule', async () => {
    const h = harness(2);
    h.scheduler.set([
      scheduled('hang', { name: 'hang' }, { intervalMs: 60_000, timeoutMs: 30_000 }),
      scheduled('x', { name: 'x', ms: 1000 }),
      scheduled('y', { name: 'y', ms: 1000 }),
    ]);
    await h.clock.advance(31_000);
    expect(startsOf(h.starts, 'x')).toEqual([0, 10_000, 20_000, 30_000]);
    expect(startsOf(h.starts, 'y')).toEqual([1000, 11_000, 21_000, 31_000]);
    const hang = h.scheduler.results().find((r) => r.name === 'hang')!;
    expect(hang.last).toMatchObject({
      status: 'critical',
      message: 'timed out after 30s',
      durationMs: 30_000,
    });
    expect(h.scheduler.stats()['hang:0000000000000000']).toMatchObject({
      LastExecFailed: true,
      TotalErrors: 1,
    });
    await h.scheduler.stop();
  });

  it('set() aborts removed and changed instances at once and keeps unchanged ones on schedule', async () => {
    const h = harness();
    const keep = scheduled('keep', { name: 'keep', ms: 1000 });
    const gone = scheduled('gone', { name: 'gone' });
    const edit = scheduled('edit', { name: 'edit', ms: 1000 });
    h.scheduler.set([keep, gone, edit]);
    await h.clock.advance(4000);
    const goneSignal = h.signals[h.starts.findIndex(([n]) => n === 'gone')]!;
    h.scheduler.set([
      scheduled('keep', { name: 'keep', ms: 1000 }),
      scheduled('edit', { name: 'edit', ms: 1000 }, { digest: 'd-edit-2' }),
      scheduled('new', { name: 'new', ms: 1000 }),
    ]);
    expect(goneSignal.aborted).toBe(true);
    expect(h.scheduler.results().map((r) => r.name)).toEqual(['edit', 'keep', 'new']);
    await h.clock.advance(7000);
    expect(startsOf(h.starts, 'keep')).toEqual([0, 10_000]);
    expect(startsOf(h.starts, 'edit')).toEqual([0, 4000]);
    expect(startsOf(h.starts, 'new')).toEqual([4000]);
    expect(startsOf(h.starts, 'gone')).toEqual([0]);
    const edit2 = h.scheduler.results().find((r) => r.name === 'edit')!;
    expect(edit2.digest).toBe('d-edit-2');
    expect(edit2.history.totalRuns).toBe(1); // the old digest's runs are forgotten
    expect(h.scheduler.results().find((r) => r.name === 'keep')!.history.totalRuns).toBe(2);
    await h.scheduler.stop();
  });

  it('stop() aborts every run and leaves nothing waiting on the clock', async () => {
    const h = harness();
    h.scheduler.set([scheduled('a', { name: 'a' }), scheduled('b', { name: 'b', ms: 10 })]);
    await h.clock.advance(100);
    await h.scheduler.stop();
    expect(h.signals.every((s) => s.aborted)).toBe(true);
    expect(h.clock.pending).toBe(0);
    expect(h.scheduler.results()).toEqual([]);
    h.scheduler.set([scheduled('c', { name: 'c' })]);
    expect(h.scheduler.results()).toEqual([]);
  });

  it('runs real checks through runCheck by default', async () => {
    const server = createServer((s) => s.on('error', () => undefined));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    const clock = new ManualClock(T0);
    const seen: string[] = [];
    let twoRuns!: () => void;
    const done = new Promise<void>((r) => (twoRuns = r));
    const scheduler = new Scheduler({
      clock,
      onRun: (c, run) => {
        if (seen.push(`${c.config.name} ${run.status}`) === 2) twoRuns();
      },
    });
    scheduler.set([
      scheduled('up', { host: '127.0.0.1', port }, { type: 'tcp' }),
      scheduled('down', {
        command: [process.execPath, '-e', 'console.log("disk full"); process.exit(2)'],
      }),
    ]);
    await done;
    expect(seen.sort()).toEqual(['down critical', 'up ok']);
    expect(scheduler.results().find((r) => r.name === 'down')!.last!.message).toBe('disk full');
    await scheduler.stop();
    server.close();
  });
});

describe('instance work directories', () => {
  it.each([
    ['web:0123456789abcdef', 'web%3A0123456789abcdef'],
    ['a/b:1', 'a%2Fb%3A1'],
    ['..', '%2E%2E'],
    ['', '%00'],
  ])('instanceWorkDir(%j) is one safe segment', (id, want) => {
    expect(instanceWorkDir('/state', id)).toBe(`/state/${want}`);
  });

  it('gives each instance its directory and removes it with the instance', async () => {
    const stateDir = await mkdtemp(join(tmpdir(), 'fathom-sched-'));
    const clock = new ManualClock(T0);
    let ran!: () => void;
    const first = new Promise<void>((r) => (ran = r));
    const scheduler = new Scheduler({
      clock,
      stateDir,
      run: async (_type, _instance, ctx) => {
        await mkdir(ctx.workDir!, { recursive: true });
        await writeFile(join(ctx.workDir!, 'last'), 'results');
        return { status: 'ok', message: '', metrics: {} };
      },
      onRun: () => ran(),
    });
    const check = scheduled('p', { plugin: 'x.yaml' }, { type: 'plugin' });
    scheduler.set([check]);
    await first;
    const dir = instanceWorkDir(stateDir, check.id);
    expect(await readFile(join(dir, 'last'), 'utf8')).toBe('results');
    const removed = new Promise<void>((r) => {
      const w = watch(stateDir, () => {
        if (!existsSync(dir)) {
          w.close();
          r();
        }
      });
    });
    scheduler.set([]);
    await removed;
    expect(await readdir(stateDir)).toEqual([]);
    await scheduler.stop();
    await rm(stateDir, { recursive: true, force: true });
  });
});
