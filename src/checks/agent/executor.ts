/**
 * The agent's checks run by the scheduler: each held config becomes one scheduled instance per
 * check ID, and what the scheduler records is reported back as stats and last runs.
 */
import type { Scheduler } from '../run/scheduler.js';
import type { CheckConfig, RunnerStatsMap } from '../types.js';
import type { LastRun } from '../wire.js';
import type { CheckExecutor } from './agent.js';

export function schedulerExecutor(
  scheduler: Scheduler,
  checkIds: (config: CheckConfig) => readonly string[],
): CheckExecutor {
  return {
    set(configs) {
      scheduler.set(
        configs.flatMap((config) =>
          checkIds(config).map((id, i) => ({ id, config, instance: config.instances[i]! })),
        ),
      );
    },
    stats: (): RunnerStatsMap => scheduler.stats(),
    lastRuns() {
      const out: Record<string, LastRun> = {};
      for (const r of scheduler.results()) {
        if (!r.last) continue;
        const { status, message, startedAt, durationMs } = r.last;
        out[r.id] = { status, message: message.slice(0, 1024), startedAt, durationMs };
      }
      return out;
    },
  };
}
