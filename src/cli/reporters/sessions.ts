/** How sessions, their events and the pools print: kubectl-like tables, or the objects. */
import type { PoolUsage, Session, SessionEvent, StoredSession } from '../../sessions/index.js';
import type { WorkloadState } from '../../core/workload.js';
import { visible } from '../../core/visible.js';
import type { OutputFormat } from './status.js';
import { renderData } from './status.js';
import { kubectlTable } from './table.js';

/** `5s`, `3m`, `2h`, `4d`: kubectl's AGE column. */
export function age(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 120) return `${s}s`;
  if (s < 7200) return `${Math.floor(s / 60)}m`;
  if (s < 172800) return `${Math.floor(s / 3600)}h`;
  return `${Math.floor(s / 86400)}d`;
}

const componentsText = (s: Session): string =>
  s.spec.components.map((c) => `${c.name}(${c.kind})x${c.replicas}@${c.pool}`).join(',');

export function renderSessionList(
  list: readonly StoredSession[],
  format: OutputFormat,
  now: number,
): string {
  if (format !== 'table')
    return renderData(
      list.map((s) => s.session),
      format,
    );
  if (!list.length) return 'No sessions.\n';
  const t = kubectlTable(['NAME', 'STATE', 'REASON', 'PRIORITY', 'AGE', 'COMPONENTS']);
  for (const { session, submittedAt } of list) {
    t.push([
      session.metadata.name,
      session.status?.state ?? 'Queued',
      session.status?.reason ?? '',
      String(session.spec.priority),
      age(now - submittedAt),
      componentsText(session),
    ]);
  }
  return `${visible(t.toString())}\n`;
}

export function renderSession(session: Session, format: OutputFormat): string {
  if (format !== 'table') return renderData(session, format);
  const st = session.status;
  const lines = [
    `Name:       ${session.metadata.name}`,
    `State:      ${st?.state ?? 'Queued'}`,
    `Reason:     ${st?.reason ?? ''}`,
    `Message:    ${st?.message ?? ''}`,
    `Priority:   ${session.spec.priority}`,
    `Timeout:    ${session.spec.timeout}`,
    `TTL:        ${session.spec.ttl}`,
    ...(st?.startTime ? [`Started:    ${st.startTime}`] : []),
    ...(st?.stopTime ? [`Stopped:    ${st.stopTime}`] : []),
    'Components:',
  ];
  const t = kubectlTable(['  NAME', 'KIND', 'POOL', 'REPLICAS', 'COMMAND']);
  for (const c of session.spec.components) {
    t.push([`  ${c.name}`, c.kind, c.pool, String(c.replicas), [...c.command].join(' ')]);
  }
  return `${visible([...lines, t.toString()].join('\n'))}\n`;
}

export function renderEvents(events: readonly SessionEvent[], format: OutputFormat): string {
  if (format !== 'table') return renderData(events, format);
  if (!events.length) return 'No events.\n';
  const t = kubectlTable(['TIME', 'EVENT', 'REASON', 'MESSAGE']);
  for (const e of events) t.push([new Date(e.time).toISOString(), e.kind, e.reason, e.message]);
  return `${visible(t.toString())}\n`;
}

export function renderPools(pools: readonly PoolUsage[], format: OutputFormat): string {
  if (format !== 'table') return renderData(pools, format);
  if (!pools.length) return 'No pools: no node of the cluster has the pool label.\n';
  const t = kubectlTable(['POOL', 'CAPACITY', 'RESERVED', 'AVAILABLE', 'SESSIONS']);
  for (const p of pools) {
    const held = p.holders.map((h) => `${h.holder}(${h.nodes.length})`).join(',');
    t.push([p.name, String(p.capacity), String(p.reserved), String(p.available), held || '-']);
  }
  return `${visible(t.toString())}\n`;
}

/** One progress line per event of a waited-for session. */
export function eventLine(name: string, e: SessionEvent): string {
  return visible(`session ${name}: ${e.kind} (${e.reason}) ${e.message}`);
}

/** A component instance's state, as `--wait` prints it when it changes. */
export function workloadLine(w: WorkloadState): string {
  const c = w.containers[0];
  const state = c ? c.state : '';
  return visible(`  ${w.name} on ${w.node}: ${w.phase}${state ? ` (${state})` : ''}`);
}
