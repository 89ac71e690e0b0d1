/**
 * What `fathom session submit --wait` shows while it follows a session. On a terminal, a small
 * table redrawn in place (redraw.ts, as `health --watch` does): one row per component instance
 * (COMPONENT, KIND, NODE, STATE, AGE) in provisioning order, then the session's line (state,
 * reason, message, elapsed) and its latest event. Elsewhere (CI logs, pipes), plain lines: each
 * new event and each change of a component instance, as before. Rendering is pure: the live view
 * only remembers what it saw (when each instance appeared, its last state once removed).
 * Backend-neutral: a snapshot is the Session, its workloads (the workload port's states) and
 * its events, read by whichever client follows it.
 */
import type { ContainerStatus, WorkloadState } from '../../core/workload.js';
import { visible } from '../../core/visible.js';
import type { ComponentInstance } from '../../sessions/instances.js';
import { provisioningGroups } from '../../sessions/instances.js';
import type { SessionEvent } from '../../sessions/events.js';
import type { Session } from '../../sessions/types.js';
import { createRedraw, type Redraw } from './redraw.js';
import { age, eventLine, workloadLine } from './sessions.js';
import { kubectlTable } from './table.js';

/** One read of a followed session. */
export interface SessionSnapshot {
  readonly session: Session;
  /** Its workloads now (the ones not yet placed or already removed are absent). */
  readonly workloads: readonly WorkloadState[];
  /** Every event so far, oldest first. */
  readonly events: readonly SessionEvent[];
  /** Milliseconds since the epoch. */
  readonly now: number;
}

/** What the live view remembers of an instance across snapshots. */
export interface InstanceMemory {
  /** When its workload was first seen (its AGE counts from here). */
  readonly firstSeen: number;
  /** Its latest state. */
  readonly last: WorkloadState;
  /** Its workload is gone (stopped and removed at the session's end, or lost). */
  readonly removed: boolean;
}

export type Memory = ReadonlyMap<string, InstanceMemory>;

/** The memory after a snapshot: new workloads noted, changed ones updated, vanished ones removed. */
export function remember(memory: Memory, snapshot: SessionSnapshot): Memory {
  const next = new Map(memory);
  const present = new Set<string>();
  for (const w of snapshot.workloads) {
    present.add(w.name);
    next.set(w.name, {
      firstSeen: memory.get(w.name)?.firstSeen ?? snapshot.now,
      last: w,
      removed: false,
    });
  }
  for (const [name, m] of memory) if (!present.has(name)) next.set(name, { ...m, removed: true });
  return next;
}

/** `pending`, `starting`, `running`, `exited N`, or `removed` after it ran. */
function containerState(c: ContainerStatus | undefined): string {
  if (!c || c.state === 'waiting') {
    const why = c && c.reason && c.reason !== 'ContainerCreating' ? ` (${c.reason})` : '';
    return `starting${why}`;
  }
  if (c.state === 'running') return 'running';
  return `exited ${c.exitCode ?? '?'}`;
}

export interface ProgressRow {
  readonly instance: string;
  readonly kind: string;
  readonly node: string;
  readonly state: string;
  readonly age: string;
}

function instanceLabel(i: ComponentInstance, session: Session): string {
  const replicas = session.spec.components.find((c) => c.name === i.component)?.replicas ?? 1;
  return replicas > 1 ? `${i.component}/${i.replica}` : i.component;
}

/** One row per component instance, servers first and the driver last. Pure. */
export function progressRows(snapshot: SessionSnapshot, memory: Memory = new Map()): ProgressRow[] {
  const { session, now } = snapshot;
  const live = new Map(snapshot.workloads.map((w) => [w.name, w]));
  return provisioningGroups(session)
    .flat()
    .map((i) => {
      const seen = memory.get(i.workload);
      const w = live.get(i.workload) ?? seen?.last;
      let state = w ? containerState(w.containers[0]) : 'pending';
      if (!live.has(i.workload) && seen?.removed && !state.startsWith('exited')) {
        // DriverSucceeded says how the driver ended even when it went between two reads;
        // anything else gone before exiting was stopped (the end) or lost.
        const driverOk = i.kind === 'driver' && session.status?.reason === 'DriverSucceeded';
        state = driverOk ? 'exited 0' : 'removed';
      }
      return {
        instance: instanceLabel(i, session),
        kind: i.kind,
        node: w?.node ?? '-',
        state,
        age: seen ? age(now - seen.firstSeen) : '-',
      };
    });
}

/** `Running (Running) all containers appear healthy, 12s`: elapsed since it left the queue. */
export function sessionLine(snapshot: SessionSnapshot): string {
  const { session, events, now } = snapshot;
  const st = session.status;
  const started = st?.startTime ? Date.parse(st.startTime) : undefined;
  const stopped = st?.stopTime ? Date.parse(st.stopTime) : now;
  const submitted = events[0]?.time;
  const elapsed =
    started !== undefined
      ? age(stopped - started)
      : submitted !== undefined
        ? `queued ${age(stopped - submitted)}`
        : '';
  const state = st?.state ?? 'Queued';
  const reason = st?.reason ? ` (${st.reason})` : '';
  const message = st?.message ? ` ${st.message}` : '';
  return visible(
    `session ${session.metadata.name}: ${state}${reason}${message}${elapsed ? `, ${elapsed}` : ''}`,
    'line',
  );
}

/** The table, the session's line and its latest event, as drawn on a terminal. Pure. */
export function renderSessionProgress(
  snapshot: SessionSnapshot,
  memory: Memory = new Map(),
): string {
  const t = kubectlTable(['COMPONENT', 'KIND', 'NODE', 'STATE', 'AGE']);
  const cell = (x: string): string => visible(x, 'line');
  for (const r of progressRows(snapshot, memory)) {
    t.push([cell(r.instance), cell(r.kind), cell(r.node), r.state, r.age]);
  }
  // The latest event, unless the session's line already says the same.
  const last = snapshot.events.at(-1);
  const same = last?.message === snapshot.session.status?.message;
  const event =
    last && !same
      ? `\n${visible(`last event: ${last.kind} (${last.reason}) ${last.message}`, 'line')}`
      : '';
  return `${t.toString()}\n\n${sessionLine(snapshot)}${event}\n`;
}

/** The final line, in both modes: `session NAME: State: message`. */
export function finalLine(session: Session): string {
  const st = session.status;
  return visible(
    `session ${session.metadata.name}: ${st?.state ?? 'Queued'}: ${st?.message ?? ''}`,
  );
}

export interface SessionProgressOptions {
  /** A terminal: redraw the table in place; otherwise plain lines. */
  readonly tty: boolean;
  /** The terminal's width (wrapped lines count as several rows when redrawing). */
  readonly columns?: number;
  readonly out: (text: string) => void;
}

export interface SessionProgress {
  /** A new read of the session: redraws (terminal) or prints what changed (plain). */
  update(snapshot: SessionSnapshot): void;
  /** The session is over: the last table on a terminal, then the final line. */
  done(snapshot: SessionSnapshot): void;
}

class PlainProgress implements SessionProgress {
  #shown = 0;
  readonly #states = new Map<string, string>();

  constructor(readonly out: (text: string) => void) {}

  update(s: SessionSnapshot): void {
    const name = s.session.metadata.name;
    for (const e of s.events.slice(this.#shown)) this.out(`${eventLine(name, e)}\n`);
    this.#shown = Math.max(this.#shown, s.events.length);
    for (const w of s.workloads) {
      const line = workloadLine(w);
      if (this.#states.get(w.name) !== line) this.out(`${line}\n`);
      this.#states.set(w.name, line);
    }
  }

  done(s: SessionSnapshot): void {
    this.update(s);
    this.out(`${finalLine(s.session)}\n`);
  }
}

class LiveProgress implements SessionProgress {
  #memory: Memory = new Map();
  #drawn = '';
  readonly #redraw: Redraw;

  constructor(readonly o: SessionProgressOptions) {
    this.#redraw = createRedraw(o.out, o.columns);
  }

  update(s: SessionSnapshot): void {
    this.#memory = remember(this.#memory, s);
    const text = renderSessionProgress(s, this.#memory);
    // A poll that changed nothing (not even an age) leaves the screen alone: no flicker.
    if (text === this.#drawn) return;
    this.#drawn = text;
    this.#redraw.draw(text);
  }

  done(s: SessionSnapshot): void {
    this.update(s);
    this.o.out(`${finalLine(s.session)}\n`);
  }
}

/** The view `submit --wait` drives: a redrawn table on a terminal, plain lines otherwise. */
export function createSessionProgress(o: SessionProgressOptions): SessionProgress {
  return o.tty ? new LiveProgress(o) : new PlainProgress(o.out);
}
