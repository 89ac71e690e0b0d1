/**
 * `delete --wait` of the Kubernetes backend on a ManualClock. Between two looks at what is left
 * the backend sleeps on its clock; the test moves the clock only once the API server's watches
 * say the run's pods (and its namespace, when fathom made it) are gone: no real-time polling.
 */
import { KubernetesBackend } from '../../src/backends/kubernetes/backend.js';
import type { KubeClient } from '../../src/backends/kubernetes/api/client.js';
import { COMPONENT_SELECTOR } from '../../src/backends/kubernetes/names.js';
import { ManualClock } from '../../src/core/clock.js';
import type { KubeHttp } from '../cluster/kube.js';

const POLL_MS = 1000;
/** Namespace deletion waits for the namespace controller: give it most of a test's time. */
const GONE_WITHIN_MS = 100_000;

export async function deleteWaiting(
  client: KubeClient,
  http: KubeHttp,
  namespace: string,
  options: { keepsNamespace?: boolean } = {},
): Promise<void> {
  const clock = new ManualClock(Date.now());
  const backend = new KubernetesBackend({ client, clock, pollMs: POLL_MS });
  let settled = false;
  const deleting = backend.delete(namespace, { wait: true }).finally(() => {
    settled = true;
  });
  const none = <T>(objects: ReadonlyMap<string, T>): true | undefined =>
    objects.size === 0 ? true : undefined;
  const gone = (): Promise<unknown> => {
    const pods = `/api/v1/namespaces/${namespace}/pods?labelSelector=${encodeURIComponent(COMPONENT_SELECTOR)}`;
    const ns = `/api/v1/namespaces?fieldSelector=${encodeURIComponent(`metadata.name=${namespace}`)}`;
    const all = Promise.all([
      http.waitForList(pods, none, GONE_WITHIN_MS),
      options.keepsNamespace ? true : http.waitForList(ns, none, GONE_WITHIN_MS),
    ]);
    all.catch(() => undefined); // raced with `deleting`, which may fail first
    return all;
  };
  for (;;) {
    await Promise.race([deleting, clock.whenSleeping()]);
    if (settled) break;
    // delete --wait found something left and sleeps: wake it once the watches see it gone.
    await Promise.race([deleting, gone()]);
    await clock.advance(POLL_MS);
  }
  await deleting;
}
