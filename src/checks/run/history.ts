/**
 * The runs an agent keeps per check instance, bounded in count and size, and the execution
 * stats the dispatcher's busyness and utilization read (the original's CLCRunnerStats). Pure.
 */
import type { CheckRun, CheckStatus, RunnerStats } from '../types.js';
import { MAX_MESSAGE_CHARS, oneLine } from './message.js';

export interface HistoryLimits {
  /** Runs kept per instance (the oldest dropped first). */
  readonly maxRuns: number;
  readonly maxMessageChars: number;
  /** Metrics kept per run (the first in name order). */
  readonly maxMetrics: number;
}

export const DEFAULT_HISTORY_LIMITS: HistoryLimits = Object.freeze({
  maxRuns: 20,
  maxMessageChars: MAX_MESSAGE_CHARS,
  maxMetrics: 32,
});

export interface RunHistory {
  /** Oldest first. */
  readonly runs: readonly CheckRun[];
  /** Every run recorded, also those no longer kept. */
  readonly totalRuns: number;
  readonly totalErrors: number;
}

export const EMPTY_HISTORY: RunHistory = Object.freeze({ runs: [], totalRuns: 0, totalErrors: 0 });

/** A run that did not do its job: the service is down (critical) or the check could not tell. */
export function isFailed(status: CheckStatus): boolean {
  return status === 'critical' || status === 'unknown';
}

/** `run` within the limits: its message one bounded line, at most `maxMetrics` metrics. */
export function boundRun(run: CheckRun, limits: HistoryLimits = DEFAULT_HISTORY_LIMITS): CheckRun {
  const names = Object.keys(run.metrics).sort().slice(0, limits.maxMetrics);
  return Object.freeze({
    ...run,
    message: oneLine(run.message, limits.maxMessageChars),
    metrics: Object.freeze(Object.fromEntries(names.map((n) => [n, run.metrics[n]!]))),
  });
}

/** The history with `run` added (bounded), the oldest runs over `maxRuns` dropped. */
export function recordRun(
  history: RunHistory,
  run: CheckRun,
  limits: HistoryLimits = DEFAULT_HISTORY_LIMITS,
): RunHistory {
  const runs = [...history.runs, boundRun(run, limits)];
  return Object.freeze({
    runs: Object.freeze(runs.slice(Math.max(0, runs.length - limits.maxRuns))),
    totalRuns: history.totalRuns + 1,
    totalErrors: history.totalErrors + (isFailed(run.status) ? 1 : 0),
  });
}

/**
 * The stats an agent reports for one instance: mean duration of the kept runs (ms, rounded),
 * the last run's metric count as MetricSamples, LastExecFailed from the last run. fathom's
 * checks send no histograms or events.
 */
export function runnerStats(history: RunHistory, isClusterCheck = true): RunnerStats {
  const { runs } = history;
  const last = runs[runs.length - 1];
  const total = runs.reduce((sum, r) => sum + r.durationMs, 0);
  return {
    AverageExecutionTime: runs.length ? Math.round(total / runs.length) : 0,
    MetricSamples: last ? Object.keys(last.metrics).length : 0,
    HistogramBuckets: 0,
    Events: 0,
    IsClusterCheck: isClusterCheck,
    LastExecFailed: last ? isFailed(last.status) : false,
    TotalRuns: history.totalRuns,
    TotalErrors: history.totalErrors,
  };
}
