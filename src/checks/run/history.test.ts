import { describe, expect, it } from 'vitest';
import type { CheckRun, CheckStatus } from '../types.js';
import { EMPTY_HISTORY, recordRun, runnerStats, type HistoryLimits } from './history.js';

const run = (
  status: CheckStatus,
  durationMs: number,
  metrics: Record<string, number> = {},
  message = '',
): CheckRun => ({ id: 'web:0123456789abcdef', status, startedAt: 0, durationMs, message, metrics });

const limits: HistoryLimits = { maxRuns: 3, maxMessageChars: 10, maxMetrics: 2 };

describe('run history', () => {
  it.each<[string, CheckRun[], Partial<ReturnType<typeof runnerStats>>]>([
    [
      'no runs',
      [],
      {
        AverageExecutionTime: 0,
        MetricSamples: 0,
        LastExecFailed: false,
        TotalRuns: 0,
        TotalErrors: 0,
      },
    ],
    [
      'one ok run',
      [run('ok', 120, { latency_ms: 3 })],
      {
        AverageExecutionTime: 120,
        MetricSamples: 1,
        LastExecFailed: false,
        TotalRuns: 1,
        TotalErrors: 0,
      },
    ],
    [
      'mean rounded to an integer',
      [run('ok', 1), run('ok', 2)],
      { AverageExecutionTime: 2, TotalRuns: 2 },
    ],
    [
      'mean over the kept runs only; totals over all',
      [run('critical', 1000), run('ok', 10), run('ok', 20), run('warning', 30)],
      { AverageExecutionTime: 20, LastExecFailed: false, TotalRuns: 4, TotalErrors: 1 },
    ],
    [
      'last run critical',
      [run('ok', 5), run('critical', 5)],
      { LastExecFailed: true, TotalErrors: 1 },
    ],
    [
      'last run unknown',
      [run('ok', 5), run('unknown', 5)],
      { LastExecFailed: true, TotalErrors: 1 },
    ],
    ['warning is not a failure', [run('warning', 5)], { LastExecFailed: false, TotalErrors: 0 }],
    [
      'metric samples of the last run, bounded',
      [run('ok', 5, { a: 1 }), run('ok', 5, { c: 1, b: 2, a: 3 })],
      { MetricSamples: 2 },
    ],
  ])('%s', (_name, runs, want) => {
    const h = runs.reduce((acc, r) => recordRun(acc, r, limits), EMPTY_HISTORY);
    expect(runnerStats(h)).toMatchObject({
      HistogramBuckets: 0,
      Events: 0,
      IsClusterCheck: true,
      ...want,
    });
  });

  it('keeps the newest maxRuns runs, oldest first, messages and metrics bounded', () => {
    let h = EMPTY_HISTORY;
    for (let i = 1; i <= 5; i++)
      h = recordRun(h, run('ok', i, { z: i, y: i, x: i }, `run ${i}\nagain and again`), limits);
    expect(h.runs.map((r) => r.durationMs)).toEqual([3, 4, 5]);
    expect(h.runs[2]!.message).toBe('run 5\\nag…');
    expect(h.runs[2]!.metrics).toEqual({ x: 5, y: 5 });
    expect(h.totalRuns).toBe(5);
    expect(Object.isFrozen(h.runs)).toBe(true);
  });

  it('defaults to the last 20 runs', () => {
    let h = EMPTY_HISTORY;
    for (let i = 0; i < 25; i++) h = recordRun(h, run('ok', i));
    expect(h.runs).toHaveLength(20);
    expect(h.runs[0]!.durationMs).toBe(5);
    expect(runnerStats(h, false).IsClusterCheck).toBe(false);
  });

  it('does not change the history it is given', () => {
    const one = recordRun(EMPTY_HISTORY, run('ok', 1));
    recordRun(one, run('critical', 2));
    expect(one.runs).toHaveLength(1);
    expect(one.totalErrors).toBe(0);
  });
});
