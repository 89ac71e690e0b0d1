import { describe, expect, it } from 'vitest';
import type { ContainerStatus, WorkloadState } from '../../core/workload.js';
import type { Session, SessionEvent, SessionReason, SessionState } from '../../sessions/index.js';
import { nextStatus, parseSessionText } from '../../sessions/index.js';
import {
  createSessionProgress,
  progressRows,
  remember,
  renderSessionProgress,
  sessionLine,
  type Memory,
  type SessionSnapshot,
} from './session-progress.js';
import { rowsOf } from './redraw.js';

const t0 = Date.parse('2026-03-01T00:00:00Z');
const spec = parseSessionText(
  `apiVersion: fathom.dev/v1alpha1
kind: Session
metadata: { name: lt }
spec:
  components:
    - { name: driver, kind: driver, pool: drivers, command: [./driver] }
    - { name: server, kind: server, pool: servers, replicas: 2, port: 1, command: [./server] }
    - { name: client, kind: client, pool: clients, command: [./client] }
`,
  'lt.yaml',
)[0]!;

/** The session after the given transitions, each `[state, reason, message, at]`. */
function session(...steps: [SessionState, SessionReason, string, number][]): Session {
  let status = nextStatus(undefined, 'Queued', 'Submitted', 'waiting for nodes', t0);
  for (const [state, reason, message, at] of steps) {
    status = nextStatus(status, state, reason, message, at);
  }
  return { ...spec, status };
}

const running: ContainerStatus = { name: 'c', restarts: 0, state: 'running' };
const waiting = (reason: string): ContainerStatus => ({
  name: 'c',
  restarts: 0,
  state: 'waiting',
  reason,
  message: '',
});
const exited = (exitCode: number): ContainerStatus => ({
  name: 'c',
  restarts: 0,
  state: 'terminated',
  exitCode,
  reason: exitCode ? 'Error' : 'Completed',
  message: '',
});

function workload(name: string, node: string, c: ContainerStatus): WorkloadState {
  const phase = c.state === 'waiting' ? 'Pending' : c.state === 'running' ? 'Running' : 'Failed';
  return { name: `lt-${name}`, owner: 'lt', node, phase, containers: [c], addresses: {} };
}

const event = (kind: SessionEvent['kind'], reason: SessionReason, message: string, time: number) =>
  ({ session: 'lt', kind, reason, message, time }) as SessionEvent;
const queued = event('queued', 'Submitted', 'waiting for nodes', t0);

const snap = (
  s: Session,
  workloads: WorkloadState[],
  events: SessionEvent[],
  now: number,
): SessionSnapshot => ({ session: s, workloads, events, now });

const table = (rows: ReturnType<typeof progressRows>) =>
  rows.map((r) => [r.instance, r.kind, r.node, r.state, r.age].join(' '));

describe('progressRows', () => {
  it('lists every instance in provisioning order, all pending while queued', () => {
    expect(table(progressRows(snap(session(), [], [queued], t0 + 5000)))).toEqual([
      'server/0 server - pending -',
      'server/1 server - pending -',
      'client client - pending -',
      'driver driver - pending -',
    ]);
  });

  it('maps each workload: starting (with the waiting reason), running, exited N; age since seen', () => {
    const s = session(['Initializing', 'Provisioning', 'placing', t0 + 1000]);
    let memory: Memory = new Map();
    const first = snap(
      s,
      [workload('server-0', 's1', waiting('ContainerCreating'))],
      [],
      t0 + 2000,
    );
    memory = remember(memory, first);
    const later = snap(
      s,
      [
        workload('server-0', 's1', running),
        workload('server-1', 's2', waiting('ImagePullBackOff')),
        workload('client-0', 'c1', exited(1)),
      ],
      [],
      t0 + 9000,
    );
    memory = remember(memory, later);
    expect(table(progressRows(later, memory))).toEqual([
      'server/0 server s1 running 7s',
      'server/1 server s2 starting (ImagePullBackOff) 0s',
      'client client c1 exited 1 0s',
      'driver driver - pending -',
    ]);
    expect(table(progressRows(first, new Map()))[0]).toBe('server/0 server s1 starting -');
  });

  it('after the end keeps what it saw: exit codes stay, stopped ones are removed, a succeeded driver exited 0', () => {
    const s = session(
      ['Running', 'Running', 'all healthy', t0 + 1000],
      ['Succeeded', 'DriverSucceeded', 'driver exited 0', t0 + 4000],
    );
    let memory: Memory = new Map();
    memory = remember(
      memory,
      snap(
        s,
        [
          workload('server-0', 's1', running),
          workload('server-1', 's2', exited(3)),
          workload('driver-0', 'd1', running),
        ],
        [],
        t0 + 2000,
      ),
    );
    const end = snap(s, [], [], t0 + 5000);
    memory = remember(memory, end);
    expect(table(progressRows(end, memory))).toEqual([
      'server/0 server s1 removed 3s',
      'server/1 server s2 exited 3 3s',
      'client client - pending -',
      'driver driver d1 exited 0 3s',
    ]);
  });
});

describe('sessionLine', () => {
  it('says how long it has been queued, then how long since it started, until it stopped', () => {
    expect(sessionLine(snap(session(), [], [queued], t0 + 5000))).toBe(
      'session lt: Queued (Submitted) waiting for nodes, queued 5s',
    );
    const r = session(['Running', 'Running', 'all healthy', t0 + 10_000]);
    expect(sessionLine(snap(r, [], [queued], t0 + 25_000))).toBe(
      'session lt: Running (Running) all healthy, 15s',
    );
    const done = session(
      ['Running', 'Running', 'all healthy', t0 + 10_000],
      ['Errored', 'ContainerError', 'driver exited 3\u001b[2J', t0 + 200_000],
    );
    // Stopped: the clock no longer counts; control characters from a message are made visible.
    expect(sessionLine(snap(done, [], [queued], t0 + 900_000))).toBe(
      'session lt: Errored (ContainerError) driver exited 3\\u001b[2J, 3m',
    );
  });
});

describe('renderSessionProgress', () => {
  it('draws the table, the session line and the latest event', () => {
    const s = session(['Initializing', 'Provisioning', 'placing', t0 + 1000]);
    const now = t0 + 3000;
    const events = [queued, event('accepted', 'Provisioning', 'executor 0 took it', t0 + 1000)];
    const w = [workload('server-0', 's1', running)];
    const memory = remember(new Map(), { ...snap(s, w, events, now), now: t0 + 1000 });
    expect(renderSessionProgress(snap(s, w, events, now), memory)).toBe(
      [
        ' COMPONENT    KIND      NODE    STATE      AGE ',
        ' server/0     server    s1      running    2s  ',
        ' server/1     server    -       pending    -   ',
        ' client       client    -       pending    -   ',
        ' driver       driver    -       pending    -   ',
        '',
        'session lt: Initializing (Provisioning) placing, 2s',
        'last event: accepted (Provisioning) executor 0 took it',
        '',
      ].join('\n'),
    );
    // An event that says what the session's line says is not repeated.
    const same = [queued, event('provisioning', 'Provisioning', 'placing', t0 + 1000)];
    expect(renderSessionProgress(snap(s, w, same, now), memory)).not.toContain('last event');
  });
});

/** A session followed through four reads: queued, provisioning, running, done. */
function story(): SessionSnapshot[] {
  const prov = session(['Initializing', 'Provisioning', 'placing', t0 + 1000]);
  const run = session(
    ['Initializing', 'Provisioning', 'placing', t0 + 1000],
    ['Running', 'Running', 'all healthy', t0 + 2000],
  );
  const ok = session(
    ['Initializing', 'Provisioning', 'placing', t0 + 1000],
    ['Running', 'Running', 'all healthy', t0 + 2000],
    ['Succeeded', 'DriverSucceeded', 'driver exited 0', t0 + 3000],
  );
  const e1 = [queued, event('accepted', 'Provisioning', 'executor 0', t0 + 1000)];
  const e2 = [...e1, event('running', 'Running', 'all healthy', t0 + 2000)];
  const e3 = [...e2, event('done', 'DriverSucceeded', 'driver exited 0', t0 + 3000)];
  const srv = workload('server-0', 's1', running);
  return [
    snap(session(), [], [queued], t0),
    snap(prov, [workload('server-0', 's1', waiting('ContainerCreating'))], e1, t0 + 1000),
    snap(run, [srv, workload('driver-0', 'd1', running)], e2, t0 + 2000),
    snap(run, [srv, workload('driver-0', 'd1', running)], e2, t0 + 2000),
    snap(ok, [], e3, t0 + 3000),
  ];
}

describe('createSessionProgress', () => {
  it('not on a terminal: each new event and each instance change once, then the final line', () => {
    const out: string[] = [];
    const p = createSessionProgress({ tty: false, out: (t) => out.push(t) });
    const reads = story();
    for (const s of reads.slice(0, -1)) p.update(s);
    p.done(reads.at(-1)!);
    expect(out.join('')).toBe(
      [
        'session lt: queued (Submitted) waiting for nodes',
        'session lt: accepted (Provisioning) executor 0',
        '  lt-server-0 on s1: Pending (waiting)',
        'session lt: running (Running) all healthy',
        '  lt-server-0 on s1: Running (running)',
        '  lt-driver-0 on d1: Running (running)',
        'session lt: done (DriverSucceeded) driver exited 0',
        'session lt: Succeeded: driver exited 0',
        '',
      ].join('\n'),
    );
    expect(out.join('')).not.toContain('\x1b');
  });

  it('on a terminal: draws once, then goes back over what it drew; an unchanged read draws nothing', () => {
    const out: string[] = [];
    const p = createSessionProgress({ tty: true, columns: 30, out: (t) => out.push(t) });
    const reads = story();
    p.update(reads[0]!);
    expect(out).toHaveLength(1);
    expect(out[0]).not.toContain('\x1b');
    expect(out[0]).toMatch(/^ COMPONENT {4}KIND/);
    p.update(reads[1]!);
    // Back up as many rows as the first drawing took, wrapped lines counted at 30 columns.
    const rows = rowsOf(out[0]!, 30);
    expect(rows).toBeGreaterThan(out[0]!.split('\n').length - 1);
    expect(out[1]!.startsWith(`\r\x1b[${rows}A\x1b[J`)).toBe(true);
    expect(out[1]).toContain(' server/0     server    s1      starting ');
    p.update(reads[2]!);
    p.update(reads[3]!); // the same read again
    expect(out).toHaveLength(3);
    p.done(reads[4]!);
    expect(out).toHaveLength(5);
    expect(out[3]).toContain(' driver       driver    d1      exited 0 ');
    expect(out[4]).toBe('session lt: Succeeded: driver exited 0\n');
  });
});
