/**
 * The dispatcher's Prometheus metrics: the original's `cluster_checks_*` set (reference section
 * e, each labelled `join_leader`) read from the state at scrape time, plus the checks' own
 * results as `fathom_check_*` from what agents report. Counters are fed by the dispatcher's
 * observer.
 */
import { Counter, Gauge, Registry } from 'prom-client';
import type { DispatchObserver } from './dispatch/dispatcher.js';
import type { ChecksHandler } from './handler.js';
import type { CheckStatus } from './types.js';

const statusValue: Record<CheckStatus, number> = { ok: 0, warning: 1, critical: 2, unknown: 3 };

export interface DispatcherMetrics {
  readonly registry: Registry;
  readonly observer: DispatchObserver;
}

export function dispatcherMetrics(handler: () => ChecksHandler | undefined): DispatcherMetrics {
  const registry = new Registry();
  const leader = (): string => String(handler()?.role === 'leader');
  const state = () => handler()?.dispatcher?.state;
  const gauge = (
    name: string,
    help: string,
    labelNames: string[],
    fill: (g: Gauge, joinLeader: string) => void,
  ): void => {
    new Gauge({
      name,
      help,
      labelNames: ['join_leader', ...labelNames],
      registers: [registry],
      collect() {
        this.reset();
        fill(this, leader());
      },
    });
  };
  gauge('cluster_checks_nodes_reporting', 'Nodes registered.', [], (g, jl) =>
    g.set({ join_leader: jl }, state()?.nodes.size ?? 0),
  );
  gauge('cluster_checks_configs_dangling', 'Configs with no node.', [], (g, jl) =>
    g.set({ join_leader: jl }, state()?.dangling.size ?? 0),
  );
  gauge(
    'cluster_checks_unscheduled_check',
    'Configs dangling longer than the threshold.',
    ['config_name', 'config_source'],
    (g, jl) => {
      for (const d of state()?.dangling.values() ?? []) {
        if (!d.unscheduled) continue;
        const labels = {
          join_leader: jl,
          config_name: d.config.name,
          config_source: d.config.source,
        };
        g.inc(labels, 1);
      }
    },
  );
  gauge('cluster_checks_configs_dispatched', 'Configs per node.', ['node'], (g, jl) => {
    for (const n of state()?.nodes.values() ?? []) g.set({ join_leader: jl, node: n.name }, n.load);
  });
  gauge('endpoint_checks_configs_dispatched', 'Endpoints configs per node.', ['node'], (g, jl) => {
    for (const [node, m] of state()?.endpoints ?? []) g.set({ join_leader: jl, node }, m.size);
  });
  gauge(
    'cluster_checks_configs_info',
    'Which instance runs where.',
    ['node', 'check_name', 'check_id'],
    (g, jl) => {
      const s = state();
      if (!s) return;
      for (const [digest, node] of s.placement) {
        const name = s.configs.get(digest)?.name ?? '';
        for (const id of s.idsOf(digest)) {
          g.set({ join_leader: jl, node, check_name: name, check_id: id }, 1);
        }
      }
    },
  );
  gauge(
    'fathom_check_status',
    'Last status per instance: 0 ok, 1 warning, 2 critical, 3 unknown.',
    ['node', 'check_id'],
    (g, jl) => {
      for (const n of state()?.nodes.values() ?? []) {
        for (const [id, run] of Object.entries(n.runs)) {
          g.set({ join_leader: jl, node: n.name, check_id: id }, statusValue[run.status]);
        }
      }
    },
  );
  gauge(
    'fathom_check_duration_seconds',
    'Duration of the last run per instance.',
    ['node', 'check_id'],
    (g, jl) => {
      for (const n of state()?.nodes.values() ?? []) {
        for (const [id, run] of Object.entries(n.runs)) {
          g.set({ join_leader: jl, node: n.name, check_id: id }, run.durationMs / 1000);
        }
      }
    },
  );
  const counter = (name: string, help: string): Counter =>
    new Counter({ name, help, labelNames: ['join_leader'], registers: [registry] });
  const decisions = counter('cluster_checks_rebalancing_decisions', 'Rebalancing moves attempted.');
  const moves = counter('cluster_checks_successful_rebalancing_moves', 'Rebalancing moves done.');
  const observer: DispatchObserver = {
    moved(list, reason) {
      if (reason === 'hashing') return;
      decisions.inc({ join_leader: leader() }, list.length);
      moves.inc({ join_leader: leader() }, list.length);
    },
  };
  return { registry, observer };
}
