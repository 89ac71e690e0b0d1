/**
 * Local sessions as Kubernetes-shaped objects, for the local ClusterReader (`fathom health`):
 * each stored Session as `session get -o json` prints it (metadata, spec, status with its
 * Ready/Reconciling/Stalled conditions), plus the namespace and creation time an API server
 * would add. A local session lives in its own `metadata.namespace`, or `fathom` (the local
 * backend's default namespace) when it names none, so a session file without a namespace
 * finds its session under health's default.
 *
 * The store is opened read-only and only once `state.db` exists: watching never creates state.
 */
import type { DurableStore } from '../../../core/store.js';
// The files, not the domain's index: `fathom health` loads no controller.
import type { StoredSession } from '../../../sessions/store.js';
import { sessionStoreOver } from '../../../sessions/store.js';
import { sessionApiVersion, sessionKind } from '../../../sessions/types.js';
import type { GroupKind, KubeObject } from '../../../status/types.js';
import { openLocalStoreReadOnly } from '../durable-store.js';

/** Where local objects that name no namespace live (`fathom health`'s local default too). */
export const LOCAL_SESSION_NAMESPACE = 'fathom';

export const SESSION_GK: GroupKind = {
  group: sessionApiVersion.split('/')[0]!,
  kind: sessionKind,
};

/** RFC 3339 to the second, as the API server writes creationTimestamp. */
function timestamp(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** The stored session as an object read from a cluster. Pure. */
export function sessionObject(stored: StoredSession): KubeObject {
  const { session, submittedAt } = stored;
  return {
    ...session,
    metadata: {
      ...session.metadata,
      namespace: session.metadata.namespace ?? LOCAL_SESSION_NAMESPACE,
      creationTimestamp: timestamp(submittedAt),
    },
  };
}

/** The sessions of one home, read on every call. */
export class LocalSessionObjects {
  #store: DurableStore | undefined;

  constructor(private readonly home: string) {}

  /** Sessions in `namespace` ('' = every namespace); none while there is no state.db. */
  async list(namespace: string): Promise<KubeObject[]> {
    this.#store ??= openLocalStoreReadOnly(this.home);
    if (!this.#store) return [];
    const all = await sessionStoreOver(this.#store).list();
    return all
      .map(sessionObject)
      .filter(
        (o) => namespace === '' || (o.metadata as { namespace: string }).namespace === namespace,
      );
  }

  close(): void {
    void this.#store?.close();
    this.#store = undefined;
  }
}
