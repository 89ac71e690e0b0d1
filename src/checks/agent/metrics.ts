/**
 * The node agent's Prometheus metrics: each held instance's last status and duration (read from
 * the scheduler at scrape time, so a check that left this node leaves the metrics too) and
 * counters of runs and failed runs per check ID, fed by the scheduler's onRun.
 */
import { Counter, Gauge, Registry } from 'prom-client';
import type { InstanceResults } from '../run/scheduler.js';
import type { CheckRun, CheckStatus } from '../types.js';

const statusValue: Record<CheckStatus, number> = { ok: 0, warning: 1, critical: 2, unknown: 3 };

export interface AgentMetrics {
  readonly registry: Registry;
  /** For the scheduler's onRun. */
  record(name: string, run: CheckRun): void;
}

export function agentMetrics(node: string, held: () => readonly InstanceResults[]): AgentMetrics {
  const registry = new Registry();
  registry.setDefaultLabels({ node });
  const labelNames = ['check_name', 'check_id'];
  new Gauge({
    name: 'fathom_check_status',
    help: 'Last status per instance held here: 0 ok, 1 warning, 2 critical, 3 unknown.',
    labelNames,
    registers: [registry],
    collect() {
      this.reset();
      for (const r of held()) {
        if (r.last) this.set({ check_name: r.name, check_id: r.id }, statusValue[r.last.status]);
      }
    },
  });
  new Gauge({
    name: 'fathom_check_duration_seconds',
    help: 'Duration of the last run per instance held here.',
    labelNames,
    registers: [registry],
    collect() {
      this.reset();
      for (const r of held()) {
        if (r.last) this.set({ check_name: r.name, check_id: r.id }, r.last.durationMs / 1000);
      }
    },
  });
  const runs = new Counter({
    name: 'fathom_check_runs_total',
    help: 'Runs per instance on this agent.',
    labelNames,
    registers: [registry],
  });
  const errors = new Counter({
    name: 'fathom_check_errors_total',
    help: 'Runs per instance on this agent that were not ok.',
    labelNames,
    registers: [registry],
  });
  return {
    registry,
    record(name, run) {
      const labels = { check_name: name, check_id: run.id };
      runs.inc(labels);
      if (run.status !== 'ok') errors.inc(labels);
    },
  };
}
