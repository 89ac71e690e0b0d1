/**
 * The sessions' store on Kubernetes. Sessions are Session custom resources, so `kubectl get
 * sessions`, `kubectl wait --for=condition=Ready` and `fathom health` see them, and a session
 * written with `kubectl apply` is one the controller runs. Their status goes through the status
 * subresource, compare-and-swap on the resourceVersion; events, holdings and logs are the
 * domain's store over ConfigMaps. Each event is also a Kubernetes Event on its Session.
 *
 * A CR the parser refuses is never a session here and never silently ignored: `invalid()` lists
 * it with the parser's message and `endInvalid()` ends it Errored with reason InvalidSpec.
 */
import { hostname } from 'node:os';
import type { Clock } from '../../../core/clock.js';
import { FathomError, isFathomError, messageOf } from '../../../core/errors.js';
import {
  isFinal,
  nextStatus,
  sessionStoreLimits,
  sessionStoreOver,
  type ComponentLog,
  type Session,
  type SessionEvent,
  type SessionState,
  type SessionStatus,
  type SessionStore,
  type StoredSession,
  type Assignment,
} from '../../../sessions/index.js';
import type { KubeClient } from '../api/client.js';
import { createKubeStore } from '../durable-store.js';
import { kindPath } from '../objects.js';
import { kubeEventFor } from './kube-events.js';
import {
  boundedStatus,
  decodeSessionResource,
  expiresAt,
  sessionResource,
  type DecodedResource,
  type SessionResource,
} from './resource.js';

export interface InvalidSession {
  readonly name: string;
  /** The parser's message, naming the field. */
  readonly message: string;
  /** Its state when it has one (Errored once `endInvalid` has seen it). */
  readonly state?: SessionState;
}

export interface EndedInvalid {
  /** Now Errored with reason InvalidSpec. */
  readonly ended: readonly string[];
  /** Ended before and past their ttl: deleted. */
  readonly removed: readonly string[];
}

export interface KubeSessionStore extends SessionStore {
  /** The Session CRs the parser refuses, by name. */
  invalid(): Promise<readonly InvalidSession[]>;
  /**
   * Ends every invalid CR not yet final (status Errored, reason InvalidSpec, an `errored`
   * event), and deletes those that ended more than their ttl ago.
   */
  endInvalid(now?: number): Promise<EndedInvalid>;
}

export interface KubeSessionStoreOptions {
  readonly client: KubeClient;
  readonly namespace: string;
  readonly clock: Clock;
  /** Where a failed Kubernetes Event write is told; stderr when not given. */
  readonly log?: (line: string) => void;
  /** The Events' reportingInstance (the pod's name); the host name by default. */
  readonly instance?: string;
}

export function createKubeSessionStore(o: KubeSessionStoreOptions): KubeSessionStore {
  return new KubeSessions(o);
}

class KubeSessions implements KubeSessionStore {
  readonly #o: KubeSessionStoreOptions;
  /** Events, holdings and logs: the domain's store over ConfigMaps. */
  readonly #rest: SessionStore;
  readonly #log: (line: string) => void;

  constructor(o: KubeSessionStoreOptions) {
    this.#o = o;
    this.#rest = sessionStoreOver(createKubeStore({ client: o.client, namespace: o.namespace }));
    this.#log = o.log ?? ((line) => console.error(line));
  }

  #path(name?: string): string {
    const ns = this.#o.namespace;
    return name === undefined
      ? kindPath({ kind: 'Session', name: '', namespace: ns }, true)
      : kindPath({ kind: 'Session', name, namespace: ns });
  }

  #what(name: string): string {
    return `Session ${this.#o.namespace}/${name}`;
  }

  async #read(name: string): Promise<DecodedResource | undefined> {
    const raw = await this.#o.client.find<unknown>(this.#path(name), `reading ${this.#what(name)}`);
    return raw === undefined ? undefined : decodeSessionResource(raw, this.#o.namespace);
  }

  async #readAll(): Promise<DecodedResource[]> {
    const ns = this.#o.namespace;
    const list = await this.#o.client.list<unknown>(
      this.#path(),
      `listing Sessions in namespace ${ns}`,
    );
    return list.items.map((raw) => decodeSessionResource(raw, ns));
  }

  /** PUT of the status at the version read; undefined when it moved on or the CR went. */
  async #putStatus(
    d: DecodedResource,
    status: SessionStatus,
  ): Promise<DecodedResource | undefined> {
    const body = {
      ...d.raw,
      metadata: { ...d.raw.metadata, resourceVersion: d.resourceVersion },
      status: boundedStatus(status),
    };
    try {
      const put = await this.#o.client.request<SessionResource>(
        'PUT',
        `${this.#path(d.name)}/status`,
        `writing the status of ${this.#what(d.name)}`,
        { body },
      );
      return decodeSessionResource(put, this.#o.namespace);
    } catch (err) {
      if (
        isFathomError(err, 'FATHOM_KUBE_CONFLICT') ||
        isFathomError(err, 'FATHOM_KUBE_NOT_FOUND')
      ) {
        return undefined;
      }
      throw err;
    }
  }

  /**
   * Read, decide, write the status at the version read; on a lost race, again, a bounded number
   * of times. `decide` returns undefined to write nothing. Returns what is stored after.
   */
  async #casStatus(
    name: string,
    decide: (d: DecodedResource) => SessionStatus | undefined,
  ): Promise<DecodedResource | undefined> {
    for (let i = 0; i < sessionStoreLimits.casAttempts; i++) {
      const cur = await this.#read(name);
      if (!cur) return undefined;
      const status = decide(cur);
      if (status === undefined) return cur;
      const wrote = await this.#putStatus(cur, status);
      if (wrote) return wrote;
    }
    throw new FathomError(
      'FATHOM_SESSION_CONFLICT',
      `${this.#what(name)}: its status changed under another writer ${sessionStoreLimits.casAttempts} times in a row`,
    );
  }

  async get(name: string): Promise<StoredSession | undefined> {
    const d = await this.#read(name);
    return d?.ok ? d.stored : undefined;
  }

  async list(): Promise<readonly StoredSession[]> {
    return (await this.#readAll()).flatMap((d) => (d.ok ? [d.stored] : []));
  }

  async create(entry: StoredSession): Promise<boolean> {
    const { session, submittedAt } = entry;
    const name = session.metadata.name;
    const body = sessionResource(session, submittedAt, this.#o.namespace);
    try {
      await this.#o.client.create(this.#path(), body, `creating ${this.#what(name)}`);
    } catch (err) {
      if (isFathomError(err, 'FATHOM_KUBE_CONFLICT')) return false;
      throw err;
    }
    const status = session.status;
    // Written only while none is there: a controller may have picked it up meanwhile.
    if (status) await this.#casStatus(name, (d) => (d.raw.status ? undefined : status));
    return true;
  }

  async update(
    name: string,
    change: (s: Session) => Session | undefined,
  ): Promise<Session | undefined> {
    const out = await this.#casStatus(name, (d) => {
      if (!d.ok) throw new FathomError('FATHOM_SESSION_INVALID', d.message);
      const cur = d.stored.session;
      const next = change(cur);
      if (next === undefined) return undefined;
      if (JSON.stringify([next.metadata, next.spec]) !== JSON.stringify([cur.metadata, cur.spec])) {
        // The status subresource writes nothing else; a caller that thinks otherwise has a bug.
        throw new FathomError('FATHOM_INTERNAL', `${this.#what(name)}: only its status may change`);
      }
      if (!next.status) throw new FathomError('FATHOM_INTERNAL', `${this.#what(name)}: no status`);
      return next.status;
    });
    if (out && !out.ok) throw new FathomError('FATHOM_SESSION_INVALID', out.message);
    return out?.stored.session;
  }

  async remove(name: string): Promise<void> {
    await this.#o.client.remove(this.#path(name), `deleting ${this.#what(name)}`);
    await this.#rest.remove(name);
  }

  events(name: string): Promise<readonly SessionEvent[]> {
    return this.#rest.events(name);
  }

  /** The store's event first (the record), then the Kubernetes Event, whose failure is only told. */
  async addEvent(event: SessionEvent): Promise<void> {
    await this.#rest.addEvent(event);
    try {
      await this.#kubeEvent(event);
    } catch (err) {
      this.#log(
        `warning: ${this.#what(event.session)}: the Kubernetes Event for "${event.kind}" was not written: ${messageOf(err)}`,
      );
    }
  }

  async #kubeEvent(event: SessionEvent): Promise<void> {
    const ns = this.#o.namespace;
    const raw = await this.#o.client.find<SessionResource>(
      this.#path(event.session),
      `reading ${this.#what(event.session)}`,
    );
    const uid = raw?.metadata.uid;
    if (!uid) return; // deleted meanwhile: nothing to hang the Event on
    const body = kubeEventFor(
      event,
      { name: event.session, namespace: ns, uid },
      this.#o.instance ?? hostname(),
    );
    await this.#o.client.create(
      kindPath({ kind: 'Event', name: '', namespace: ns }, true),
      body,
      `creating an Event on ${this.#what(event.session)}`,
    );
  }

  holdings(): Promise<ReadonlyMap<string, Assignment>> {
    return this.#rest.holdings();
  }

  hold(name: string, nodes: Assignment): Promise<void> {
    return this.#rest.hold(name, nodes);
  }

  unhold(name: string): Promise<void> {
    return this.#rest.unhold(name);
  }

  logs(session: string): Promise<readonly ComponentLog[]> {
    return this.#rest.logs(session);
  }

  saveLog(log: ComponentLog): Promise<void> {
    return this.#rest.saveLog(log);
  }

  async invalid(): Promise<readonly InvalidSession[]> {
    return (await this.#readAll()).flatMap((d) =>
      d.ok ? [] : [{ name: d.name, message: d.message, ...(d.state ? { state: d.state } : {}) }],
    );
  }

  async endInvalid(now: number = this.#o.clock.now()): Promise<EndedInvalid> {
    const ended: string[] = [];
    const removed: string[] = [];
    for (const d of await this.#readAll()) {
      if (d.ok) continue;
      if (d.state && isFinal(d.state)) {
        const expires = expiresAt(d.raw);
        if (expires !== undefined && now >= expires) {
          await this.remove(d.name);
          removed.push(d.name);
        }
        continue;
      }
      let message = d.message;
      let writing = false; // whether the last decision, the one that won, wrote
      await this.#casStatus(d.name, (cur) => {
        writing = false;
        if (cur.ok || (cur.state && isFinal(cur.state))) return undefined; // fixed or ended meanwhile
        message = cur.message;
        writing = true;
        return nextStatus(undefined, 'Errored', 'InvalidSpec', message, now);
      });
      if (writing) {
        ended.push(d.name);
        await this.addEvent({
          session: d.name,
          kind: 'errored',
          time: now,
          reason: 'InvalidSpec',
          message,
        });
      }
    }
    return { ended, removed };
  }
}
