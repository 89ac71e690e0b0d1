/**
 * Server-side apply of whole objects, as `kubectl apply --server-side` does it: what `checks up`
 * and the session controller's CRD install send, and what tests dry-run every generated manifest
 * through.
 */
import type { KubeClient } from './api/client.js';
import type { KubeObject } from './api/types.js';
import { kindPath, type Ref } from './objects.js';

export const FIELD_MANAGER = 'fathom-checks';

export const describe = (o: Pick<Ref, 'kind' | 'name' | 'namespace'>): string =>
  `${o.kind} ${o.namespace ? `${o.namespace}/` : ''}${o.name}`;

/** Kubernetes keeps `data`; applying `stringData` would leave old keys owned by nobody. */
function forApply(obj: KubeObject): KubeObject {
  if (obj.kind !== 'Secret' || !obj.stringData) return obj;
  const { stringData, ...rest } = obj as KubeObject & { stringData: Record<string, string> };
  const data = Object.fromEntries(
    Object.entries(stringData).map(([k, v]) => [k, Buffer.from(v).toString('base64')]),
  );
  return { ...rest, data };
}

/**
 * Server-side apply of one object (`dryRun`: validated and admitted by the server, not stored),
 * owned by `fieldManager`. Returns the object as the server has it.
 */
export async function applyObject(
  client: KubeClient,
  obj: KubeObject,
  dryRun = false,
  fieldManager: string = FIELD_MANAGER,
): Promise<KubeObject> {
  const ref = { kind: obj.kind, name: obj.metadata.name, namespace: obj.metadata.namespace };
  return client.request<KubeObject>('PATCH', kindPath(ref), `applying ${describe(ref)}`, {
    // Strict: a field the API does not know is an error, not a warning dropped on the floor.
    query: {
      fieldManager,
      force: true,
      fieldValidation: 'Strict',
      ...(dryRun ? { dryRun: 'All' } : {}),
    },
    body: forApply(obj),
    contentType: 'application/apply-patch+yaml',
  });
}
