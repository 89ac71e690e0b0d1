/**
 * `fathom checks state` and `fathom checks results`: the leader's state (the state endpoint's
 * shape, with leader, term and each replica's answer), and one row per check instance with its
 * last run. Tables for people, JSON/YAML as the data is.
 */
import type { ReplicaView } from '../../backends/checks.js';
import type { StateResponse } from '../../checks/wire.js';
import { formatDuration } from '../../core/duration.js';
import { visible } from '../../core/visible.js';
import { renderData, type OutputFormat } from './status.js';
import { kubectlTable } from './table.js';

export interface ChecksStateView extends Omit<StateResponse, 'leader' | 'term'> {
  /** The leading replica's name; absent when none leads. */
  readonly leader?: string;
  readonly term?: number;
  readonly replicas: readonly { name: string; url: string; role: string; error?: string }[];
}

function roleOf(r: ReplicaView): string {
  if (!r.state) return 'unreachable';
  if (!r.state.not_running) return 'leader';
  return r.state.not_running === 'currently follower' ? 'follower' : 'starting';
}

/** The leader's state with every replica's role; empty when no replica leads. */
export function checksStateView(replicas: readonly ReplicaView[]): ChecksStateView {
  const leading = replicas.find((r) => r.state && !r.state.not_running);
  const roles = replicas.map((r) => ({
    name: r.name,
    url: r.url,
    role: roleOf(r),
    ...(r.error ? { error: r.error } : {}),
  }));
  if (!leading) {
    const why = replicas.find((r) => r.state)?.state?.not_running ?? 'no replica answers';
    return { not_running: why, warmup: false, nodes: [], dangling: [], replicas: roles };
  }
  const { leader: _identity, ...state } = leading.state!;
  return { ...state, leader: leading.name, replicas: roles };
}

export interface CheckResultRow {
  readonly node: string;
  readonly check: string;
  readonly id: string;
  readonly status: string;
  readonly message: string;
  /** Epoch ms of the last run's start; absent before the first run. */
  readonly startedAt?: number;
  readonly durationMs?: number;
}

/** One row per instance placed on a node, with its last run there (if any yet). */
export function checkResults(view: ChecksStateView, name?: string): CheckResultRow[] {
  const rows: CheckResultRow[] = [];
  for (const node of view.nodes) {
    for (const { config, instance_ids } of node.configs) {
      if (name !== undefined && config.name !== name) continue;
      for (const id of instance_ids) {
        const run = node.runs?.[id];
        rows.push({
          node: node.name,
          check: config.name,
          id,
          status: run?.status ?? 'pending',
          message: run?.message ?? '',
          ...(run ? { startedAt: run.startedAt, durationMs: run.durationMs } : {}),
        });
      }
    }
  }
  return rows.sort((a, b) =>
    a.check === b.check ? (a.id < b.id ? -1 : 1) : a.check < b.check ? -1 : 1,
  );
}

function ago(now: number, at: number | undefined): string {
  return at === undefined ? '-' : `${formatDuration(Math.max(0, now - at))} ago`;
}

export function renderChecksState(
  view: ChecksStateView,
  format: OutputFormat,
  now: number,
): string {
  if (format !== 'table') return renderData(view, format);
  const lines: string[] = [];
  const replicas = view.replicas.map((r) => `${r.name} ${r.role}`).join(', ');
  if (view.leader === undefined) {
    lines.push(`No replica leads (${view.not_running}). Replicas: ${replicas}.`);
    return `${lines.join('\n')}\n`;
  }
  lines.push(
    `Leader ${view.leader} (term ${view.term ?? '?'}), ${view.warmup ? 'warming up' : 'dispatching'}. Replicas: ${replicas}.`,
  );
  const table = kubectlTable(['NODE', 'CHECK', 'INSTANCES', 'STATUS', 'LAST RUN', 'AVG TIME']);
  for (const node of view.nodes) {
    if (!node.configs.length) table.push([node.name, '<none>', '', '', '', '']);
    for (const { config, instance_ids } of node.configs) {
      const runs = instance_ids.map((id) => node.runs?.[id]).filter((r) => r !== undefined);
      const stats = instance_ids.map((id) => node.stats?.[id]).filter((s) => s !== undefined);
      const worst = runs.map((r) => r.status).sort((a, b) => severity(b) - severity(a))[0];
      const last = runs.length ? Math.max(...runs.map((r) => r.startedAt)) : undefined;
      const avg = stats.length
        ? formatDuration(stats.reduce((s, x) => s + x.AverageExecutionTime, 0) / stats.length)
        : '-';
      table.push([
        node.name,
        config.name,
        String(instance_ids.length),
        worst ?? 'pending',
        ago(now, last),
        avg,
      ]);
    }
  }
  lines.push(table.toString());
  if (view.dangling.length) {
    lines.push(`Dangling (no node yet): ${view.dangling.map((c) => c.name).join(', ')}`);
  }
  return `${visible(lines.join('\n'))}\n`;
}

const severity = (s: string): number => ({ ok: 0, warning: 1, unknown: 2, critical: 3 })[s] ?? 0;

export function renderCheckResults(
  rows: readonly CheckResultRow[],
  format: OutputFormat,
  now: number,
): string {
  if (format !== 'table') return renderData(rows, format);
  const table = kubectlTable(['CHECK', 'ID', 'NODE', 'STATUS', 'LAST RUN', 'DURATION', 'MESSAGE']);
  for (const r of rows) {
    table.push([
      r.check,
      r.id.slice(r.check.length + 1),
      r.node,
      r.status,
      ago(now, r.startedAt),
      r.durationMs === undefined ? '-' : formatDuration(r.durationMs),
      r.message.slice(0, 120),
    ]);
  }
  return `${visible(table.toString())}\n`;
}
