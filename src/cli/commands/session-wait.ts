/**
 * The session commands that follow a session in time: `submit --wait`, `logs -f`, `cancel`.
 * They poll the store (another process, the controller, writes it) and make sure the controller
 * still runs while they wait: a controller killed meanwhile is restarted and picks up again. An
 * API server that stops answering for a while is said once on stderr and waited out.
 */
import type { Clock } from '../../core/clock.js';
import { systemClock } from '../../core/clock.js';
import { pollUntil } from '../../core/poll.js';
import type { SessionsBackend } from '../../backends/sessions.js';
import type { Session } from '../../sessions/index.js';
import { isFinal } from '../../sessions/index.js';
import type { Io } from '../context.js';
import { createSessionProgress, type SessionSnapshot } from '../reporters/session-progress.js';

const POLL_MS = 200;
/** How often a waiting command checks the controller is alive. */
const CONTROLLER_CHECK_MS = 1_000;

/**
 * Polls until `attempt` answers, checking every second that the controller runs; an API
 * server that does not answer for a while is said on stderr and waited for (core/poll.ts).
 */
function follow<T>(
  s: SessionsBackend,
  io: Io,
  clock: Clock,
  attempt: () => Promise<T | undefined>,
): Promise<T> {
  let checked = clock.now();
  return pollUntil({ clock, everyMs: POLL_MS, warn: (l) => io.err(l) }, async () => {
    const value = await attempt();
    if (value !== undefined || clock.now() - checked < CONTROLLER_CHECK_MS) return value;
    checked = clock.now();
    if ((await s.ensureController()) === 'restarted') {
      io.err('The session controller had stopped: restarted it.\n');
    }
    return undefined;
  });
}

/** Whether `name` ended and its nodes and workloads are free again. */
async function over(s: SessionsBackend, name: string): Promise<Session | undefined> {
  const cur = (await s.get(name)).session;
  if (!isFinal(cur.status?.state ?? 'Queued')) return undefined;
  return (await s.released(name)) ? cur : undefined;
}

/**
 * Follows the session until it is over: on a terminal (`tty`) a table of its component
 * instances redrawn in place, elsewhere one line per new event and per component change.
 */
export async function waitForSession(
  s: SessionsBackend,
  name: string,
  io: Io,
  out: (line: string) => void = (l) => io.out(l),
  tty: boolean = io.isTTY,
  clock: Clock = systemClock,
): Promise<Session> {
  const columns = process.stdout.columns;
  const view = createSessionProgress({ tty, out, ...(columns ? { columns } : {}) });
  const read = async (session: Session): Promise<SessionSnapshot> => ({
    session,
    workloads: await s.workloads(name),
    events: await s.store.events(name),
    now: clock.now(),
  });
  const done = await follow(s, io, clock, async () => {
    const snapshot = await read((await s.get(name)).session);
    const ended = await over(s, name);
    if (!ended) view.update(snapshot);
    return ended;
  });
  view.done(await read(done)); // re-read: the final event may be newer than the snapshot
  return done;
}

/** Returns once the cancelled session holds nothing and runs nothing. */
export async function awaitReleased(
  s: SessionsBackend,
  name: string,
  io: Io,
  clock: Clock = systemClock,
): Promise<void> {
  await follow(s, io, clock, async () => ((await s.released(name)) ? true : undefined));
}

async function collect(chunks: AsyncIterable<Buffer>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of chunks) parts.push(c);
  return Buffer.concat(parts);
}

/**
 * Kept logs once the session ended, live output while it runs; with `follow`, live output as it
 * comes until the end, then what was kept beyond it. Several instances: each line is prefixed.
 */
export async function printLogs(
  s: SessionsBackend,
  name: string,
  io: Io,
  o: { component?: string; follow?: boolean },
  clock: Clock = systemClock,
): Promise<void> {
  const session = (await s.get(name)).session;
  if (o.component && !session.spec.components.some((c) => c.name === o.component)) {
    const { FathomError } = await import('../../core/errors.js');
    throw new FathomError(
      'FATHOM_USAGE',
      `-c ${o.component}: session ${name} has no such component (${session.spec.components.map((c) => c.name).join(', ')})`,
    );
  }
  const printed = new Map<string, number>();
  const instances = session.spec.components
    .filter((c) => !o.component || c.name === o.component)
    .reduce((n, c) => n + c.replicas, 0);
  const emit = (workload: string, all: Buffer): void => {
    const from = printed.get(workload) ?? 0;
    if (all.length <= from) return;
    const text = all.subarray(from).toString('utf8');
    printed.set(workload, all.length);
    io.out(instances > 1 ? text.replace(/^(?=.)/gm, `[${workload}] `) : text);
  };
  const ended = await follow(s, io, clock, async () => {
    const cur = (await s.get(name)).session;
    if (isFinal(cur.status?.state ?? 'Queued') && (await s.released(name))) return true;
    for (const w of await s.workloads(name)) {
      const container = w.containers[0]?.name;
      if (!container || (o.component && container !== o.component)) continue;
      emit(w.name, await collect(s.runtime.logs(w.name, container)).catch(() => Buffer.alloc(0)));
    }
    return o.follow ? undefined : false;
  });
  if (!ended) return;
  const kept = (await s.logs(name))
    .filter((l) => !o.component || l.component === o.component)
    .sort((a, b) => (a.workload < b.workload ? -1 : 1));
  for (const l of kept) {
    const all = Buffer.from(l.text, 'utf8');
    // A kept tail that was cut at its start is printed whole: its offsets are not the live ones.
    if (l.truncated) printed.delete(l.workload);
    emit(l.workload, all);
  }
}
