/**
 * The sessions' persistent state, over the DurableStore port: everything a restarted controller
 * needs to rebuild its queue, its reservations and what runs, from the store alone.
 *
 * - `sessions`: the Session with its status, and when it was submitted (its place in the queue);
 * - `session-events`: every event of a session, bounded (the oldest beyond the bound dropped);
 * - `session-holdings`: the nodes a session holds, written before it leaves the queue and
 *   removed once its workloads are gone, so reservations match what runs after any crash;
 * - `session-logs`: the tail of each component instance's output, copied before its workload
 *   is removed (the workloads themselves never outlive their session).
 *
 * Values are checked against their schema when read and frozen. Writes are compare-and-swap: a
 * lost race re-reads and applies the change again, a bounded number of times.
 */
import type { Collection, DurableStore, StoredItem } from '../core/store.js';
import { typedCollection } from '../core/store.js';
import { FathomError } from '../core/errors.js';
import type { Schema } from '../core/schema.js';
import { Type } from '../core/schema.js';
import { deepFreeze } from '../core/validated.js';
import type { Assignment } from './reservations.js';
import type { SessionEvent } from './events.js';
import type { Session, SessionStatus } from './types.js';
import { sessionApiVersion, sessionKind, sessionStates } from './types.js';

export interface StoredSession {
  readonly session: Session;
  /** Milliseconds since the epoch: its place in the queue. */
  readonly submittedAt: number;
}

export interface ComponentLog {
  readonly session: string;
  readonly workload: string;
  readonly component: string;
  readonly replica: number;
  /** The last bytes of its output (UTF-8; a cut character at the start is replaced). */
  readonly text: string;
  /** Bytes dropped from the start. */
  readonly truncated: number;
}

/** The domain's port: what the controller and executors need to keep. */
export interface SessionStore {
  get(name: string): Promise<StoredSession | undefined>;
  list(): Promise<readonly StoredSession[]>;
  /** false when a session of that name exists. */
  create(entry: StoredSession): Promise<boolean>;
  /**
   * Applies `change` to the current session until the write wins; `change` returns undefined to
   * leave it as it is (a final state is never overwritten by the caller's rule). Returns the
   * session as stored after, or undefined when there is none.
   */
  update(name: string, change: (s: Session) => Session | undefined): Promise<Session | undefined>;
  remove(name: string): Promise<void>;
  events(name: string): Promise<readonly SessionEvent[]>;
  addEvent(event: SessionEvent): Promise<void>;
  /** Session → the nodes it holds. */
  holdings(): Promise<ReadonlyMap<string, Assignment>>;
  hold(name: string, nodes: Assignment): Promise<void>;
  unhold(name: string): Promise<void>;
  logs(session: string): Promise<readonly ComponentLog[]>;
  saveLog(log: ComponentLog): Promise<void>;
}

export const sessionStoreLimits = {
  eventsPerSession: 100,
  logTailBytes: 64 * 1024,
  casAttempts: 20,
} as const;

const str = Type.String();
const strMap = Type.Record(str, str);
const componentSchema = Type.Object({
  name: str,
  kind: str,
  pool: str,
  replicas: Type.Integer({ minimum: 0 }),
  command: Type.Array(str, { minItems: 1 }),
  args: Type.Optional(Type.Array(str)),
  env: Type.Optional(strMap),
  image: Type.Optional(str),
  port: Type.Optional(Type.Integer({ minimum: 1, maximum: 65535 })),
});
const conditionSchema = Type.Object({
  type: Type.Enum(['Ready', 'Reconciling', 'Stalled'] as const),
  status: Type.Enum(['True', 'False'] as const),
  reason: str,
  message: str,
  lastTransitionTime: str,
});
/** A stored status, as read back (a backend keeping the spec elsewhere checks it with this). */
export const sessionStatusSchema = Type.Object({
  state: Type.Enum(sessionStates),
  reason: str,
  message: str,
  startTime: Type.Optional(str),
  stopTime: Type.Optional(str),
  conditions: Type.Array(conditionSchema),
});
const sessionSchema = Type.Object({
  apiVersion: Type.Literal(sessionApiVersion),
  kind: Type.Literal(sessionKind),
  metadata: Type.Object({
    name: str,
    namespace: Type.Optional(str),
    labels: Type.Optional(strMap),
  }),
  spec: Type.Object({
    components: Type.Array(componentSchema, { minItems: 1 }),
    timeout: str,
    ttl: str,
    priority: Type.Integer(),
  }),
  status: Type.Optional(sessionStatusSchema),
});
const storedSchema = Type.Object({ session: sessionSchema, submittedAt: Type.Number() });
const eventSchema = Type.Object({
  session: str,
  kind: Type.Enum(['queued', 'accepted', 'provisioning', 'running', 'done', 'errored'] as const),
  time: Type.Number(),
  reason: str,
  message: str,
});
const eventsSchema = Type.Object({ events: Type.Array(eventSchema) });
const holdingSchema = Type.Object({ nodes: Type.Record(str, Type.Array(str)) });
const logSchema = Type.Object({
  session: str,
  workload: str,
  component: str,
  replica: Type.Integer({ minimum: 0 }),
  text: str,
  truncated: Type.Integer({ minimum: 0 }),
});

/** The schema mirrors the domain type: once checked, the value is one. */
function typed<T>(inner: Collection, schema: Schema<unknown>, where: string): Collection<T> {
  return typedCollection(inner, schema, where) as Collection<T>;
}

function conflict(what: string): FathomError {
  return new FathomError(
    'FATHOM_SESSION_CONFLICT',
    `${what}: changed by another writer ${sessionStoreLimits.casAttempts} times in a row`,
  );
}

/**
 * Read, change, write at the version read; on a lost race, again. `change` returns undefined to
 * write nothing; `create` makes the first value when the key is absent.
 */
export async function casLoop<T>(
  c: Collection<T>,
  key: string,
  change: (cur: StoredItem<T> | undefined) => T | undefined,
): Promise<T | undefined> {
  for (let i = 0; i < sessionStoreLimits.casAttempts; i++) {
    const cur = await c.get(key);
    const next = change(cur);
    if (next === undefined) return cur?.value;
    const won = cur ? await c.update(key, next, cur.version) : await c.create(key, next);
    if (won !== undefined) return deepFreeze(next);
  }
  throw conflict(key);
}

class DurableSessionStore implements SessionStore {
  readonly #sessions: Collection<StoredSession>;
  readonly #events: Collection<{ events: SessionEvent[] }>;
  readonly #holdings: Collection<{ nodes: Assignment }>;
  readonly #logs: Collection<ComponentLog>;

  constructor(store: DurableStore) {
    this.#sessions = typed(store.collection('sessions'), storedSchema, 'sessions');
    this.#events = typed(store.collection('session-events'), eventsSchema, 'session-events');
    this.#holdings = typed(store.collection('session-holdings'), holdingSchema, 'session-holdings');
    this.#logs = typed(store.collection('session-logs'), logSchema, 'session-logs');
  }

  async get(name: string): Promise<StoredSession | undefined> {
    return (await this.#sessions.get(name))?.value;
  }

  async list(): Promise<readonly StoredSession[]> {
    return (await this.#sessions.list()).map((i) => i.value);
  }

  async create(entry: StoredSession): Promise<boolean> {
    return (await this.#sessions.create(entry.session.metadata.name, entry)) !== undefined;
  }

  async update(
    name: string,
    change: (s: Session) => Session | undefined,
  ): Promise<Session | undefined> {
    const out = await casLoop(this.#sessions, name, (cur) => {
      if (!cur) return undefined;
      const next = change(cur.value.session);
      return next && { ...cur.value, session: next };
    });
    return out?.session;
  }

  async remove(name: string): Promise<void> {
    await this.#sessions.remove(name);
    await this.#events.remove(name);
    await this.#holdings.remove(name);
    for (const log of await this.logs(name)) await this.#logs.remove(log.workload);
  }

  async events(name: string): Promise<readonly SessionEvent[]> {
    return (await this.#events.get(name))?.value.events ?? [];
  }

  async addEvent(event: SessionEvent): Promise<void> {
    const max = sessionStoreLimits.eventsPerSession;
    await casLoop(this.#events, event.session, (cur) => ({
      events: [...(cur?.value.events ?? []), event].slice(-max),
    }));
  }

  async holdings(): Promise<ReadonlyMap<string, Assignment>> {
    return new Map((await this.#holdings.list()).map((i) => [i.key, i.value.nodes]));
  }

  async hold(name: string, nodes: Assignment): Promise<void> {
    await casLoop(this.#holdings, name, () => ({ nodes }));
  }

  async unhold(name: string): Promise<void> {
    await this.#holdings.remove(name);
  }

  async logs(session: string): Promise<readonly ComponentLog[]> {
    return (await this.#logs.list()).map((i) => i.value).filter((l) => l.session === session);
  }

  async saveLog(log: ComponentLog): Promise<void> {
    await casLoop(this.#logs, log.workload, () => log);
  }
}

export function sessionStoreOver(store: DurableStore): SessionStore {
  return new DurableSessionStore(store);
}

/** A session with a new status (pure). */
export function withStatus(session: Session, status: SessionStatus): Session {
  return { ...session, status };
}
