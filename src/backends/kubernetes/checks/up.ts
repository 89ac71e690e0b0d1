/**
 * `fathom checks up/down` on Kubernetes: server-side apply of what `gen checks` prints, then a
 * wait until the dispatcher Deployment and the agent DaemonSet are Current by fathom's own
 * kstatus engine; `down` deletes them (workloads in the foreground, so gone means their pods
 * are gone too) and waits the same way. The namespace stays: other fathom work may live in it.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Clock } from '../../../core/clock.js';
import { formatDuration } from '../../../core/duration.js';
import { FathomError, messageOf } from '../../../core/errors.js';
import { parseCheckText } from '../../../checks/config/index.js';
import {
  createStatusPoller,
  watchStatus,
  type ObjectIdentifier,
  type WatchOutcome,
  type WatchUpdate,
} from '../../../status/index.js';
import type { KubeClient } from '../api/client.js';
import type { KubeObject } from '../api/types.js';
import { createKubeClusterReader } from '../reader.js';
import { checksManifests, configsConfigMap, type ChecksSecrets } from './manifests.js';
import {
  AGENT,
  CA_SECRET,
  CHECKS_LEASE,
  CHECKS_SERVICE,
  CONFIGS_CONFIG_MAP,
  DISPATCHER,
  TLS_SECRET,
  TOKEN_SECRET,
  clusterScopedName,
} from './names.js';
import type { KubeChecksSpec } from './options.js';
import { applyObject, describe } from '../apply.js';
import { kindPath, type Ref } from '../objects.js';
import { generateChecksSecrets, reusableChecksSecrets } from './secrets.js';

export { applyObject, FIELD_MANAGER } from '../apply.js';

/** A ConfigMap holds at most 1 MiB; leave room for its metadata. */
const MAX_CONFIG_BYTES = 1_000_000;

export interface KubeChecksWait {
  /** Give up after this long (0: never). */
  readonly timeoutMs: number;
  /** Between status polls; default 2 s. */
  readonly pollMs?: number;
  readonly signal?: AbortSignal;
  /** Each change of the workloads' status, for a progress line. */
  readonly onUpdate?: (update: WatchUpdate) => void;
}

export interface KubeChecksUpOptions extends KubeChecksWait {
  readonly client: KubeClient;
  readonly clock: Clock;
  readonly spec: KubeChecksSpec;
  /** `-f DIR`: its `*.yaml`/`*.yml` files become the `fathom-checks-configs` ConfigMap. */
  readonly configsDir?: string;
  /** More names or IPs for the dispatcher's certificate (a test's stand-in for kube-proxy). */
  readonly extraHosts?: readonly string[];
  /** Apply only, do not wait. */
  readonly noWait?: boolean;
}

export interface KubeChecksUpResult {
  /** `Kind namespace/name` of every object applied, in order. */
  readonly applied: readonly string[];
  /** False when the token and certificate were made new (first up, or renewal due). */
  readonly reusedSecrets: boolean;
}

/** The directory's check files, each checked as the dispatcher will read it. */
export async function readConfigsDir(dir: string): Promise<Record<string, string>> {
  let names: string[];
  try {
    names = (await readdir(dir)).filter((n) => /\.ya?ml$/.test(n)).sort();
  } catch (cause) {
    throw new FathomError('FATHOM_CONFIG_INVALID', `${dir}: cannot be read (${messageOf(cause)})`, {
      cause,
      details: { file: dir },
    });
  }
  const files: Record<string, string> = {};
  let total = 0;
  for (const name of names) {
    const file = path.join(dir, name);
    total += (await stat(file)).size;
    if (total > MAX_CONFIG_BYTES) {
      throw new FathomError(
        'FATHOM_CONFIG_INVALID',
        `${dir}: the check files pass ${MAX_CONFIG_BYTES} bytes, more than one ConfigMap holds`,
        { details: { file: dir } },
      );
    }
    const text = await readFile(file, 'utf8');
    parseCheckText(text, file); // throws naming file, line and field
    files[name] = text;
  }
  return files;
}

function workloads(namespace: string): ObjectIdentifier[] {
  return [
    { group: 'apps', kind: 'Deployment', namespace, name: DISPATCHER },
    { group: 'apps', kind: 'DaemonSet', namespace, name: AGENT },
  ];
}

async function waitFor(
  client: KubeClient,
  clock: Clock,
  namespace: string,
  until: 'current' | 'deleted',
  o: KubeChecksWait,
): Promise<void> {
  const reader = createKubeClusterReader(client, { clock });
  const poller = createStatusPoller(reader);
  const ids = workloads(namespace);
  let outcome: WatchOutcome;
  try {
    outcome = await watchStatus(
      poller,
      ids,
      {
        until,
        pollInterval: o.pollMs ?? 2000,
        timeoutMs: o.timeoutMs,
        clock,
        ...(o.signal ? { signal: o.signal } : {}),
      },
      o.onUpdate,
    );
  } finally {
    reader.close();
  }
  if (outcome.end === 'reached') return;
  if (outcome.end === 'error') throw outcome.error ?? new Error('the status watch failed');
  const word = until === 'current' ? 'ready' : 'deleted';
  const pending = outcome.observation.statuses
    .filter((s) => s.status !== outcome.desired)
    .map(
      (s) =>
        `${s.identifier.kind} ${s.identifier.name}: ${s.status}${s.message ? ` (${s.message})` : ''}`,
    );
  throw new FathomError(
    outcome.end === 'timeout' ? 'FATHOM_TIMEOUT' : 'FATHOM_NOT_READY',
    `${outcome.end === 'timeout' ? `timed out after ${formatDuration(o.timeoutMs)}` : 'interrupted'}: cluster checks in namespace "${namespace}" not yet ${word}: ${pending.join('; ')}`,
    { details: { namespace, pending: pending.length } },
  );
}

/**
 * Applies every object (the token and certificate kept when still good), then waits until the
 * dispatcher replicas and one agent per node are ready.
 */
export async function kubeChecksUp(o: KubeChecksUpOptions): Promise<KubeChecksUpResult> {
  const { client, clock, spec } = o;
  const ns = spec.namespace;
  // Bad input first: nothing is applied when a check file is wrong.
  const files = o.configsDir !== undefined ? await readConfigsDir(o.configsDir) : undefined;
  const existing = await client.find<KubeObject>(
    kindPath({ kind: 'Namespace', name: ns }),
    `reading Namespace ${ns}`,
  );
  if (existing?.metadata.deletionTimestamp) {
    throw new FathomError(
      'FATHOM_KUBE_CONFLICT',
      `Namespace ${ns} is being deleted: wait until it is gone and run \`fathom checks up\` again`,
    );
  }
  const secretsOptions = {
    namespace: ns,
    now: clock.now(),
    ...(o.extraHosts ? { extraHosts: o.extraHosts } : {}),
  };
  const kept: ChecksSecrets | undefined = existing
    ? await reusableChecksSecrets(client, secretsOptions)
    : undefined;
  const secrets = kept ?? (await generateChecksSecrets(secretsOptions));
  const objects = checksManifests(spec, secrets);
  if (files)
    objects.splice(
      objects.findIndex((x) => x.kind === 'Service'),
      0,
      configsConfigMap(spec, files),
    );
  const applied: string[] = [];
  for (const obj of objects) {
    await applyObject(client, obj);
    applied.push(
      describe({ kind: obj.kind, name: obj.metadata.name, namespace: obj.metadata.namespace }),
    );
  }
  if (!o.noWait) await waitFor(client, clock, ns, 'current', o);
  return { applied, reusedSecrets: kept !== undefined };
}

export interface KubeChecksDownOptions extends KubeChecksWait {
  readonly client: KubeClient;
  readonly clock: Clock;
  readonly namespace: string;
  readonly noWait?: boolean;
}

/** Everything `up` makes, plus the Lease the replicas made: workloads first, RBAC last. */
export function checksRefs(namespace: string): Ref[] {
  const ns = namespace;
  return [
    { kind: 'DaemonSet', name: AGENT, namespace: ns },
    { kind: 'Deployment', name: DISPATCHER, namespace: ns },
    { kind: 'Service', name: CHECKS_SERVICE, namespace: ns },
    { kind: 'Lease', name: CHECKS_LEASE, namespace: ns },
    { kind: 'ConfigMap', name: CONFIGS_CONFIG_MAP, namespace: ns },
    { kind: 'Secret', name: TOKEN_SECRET, namespace: ns },
    { kind: 'Secret', name: TLS_SECRET, namespace: ns },
    { kind: 'Secret', name: CA_SECRET, namespace: ns },
    { kind: 'RoleBinding', name: DISPATCHER, namespace: ns },
    { kind: 'Role', name: DISPATCHER, namespace: ns },
    { kind: 'ClusterRoleBinding', name: clusterScopedName(DISPATCHER, ns) },
    { kind: 'ClusterRole', name: clusterScopedName(DISPATCHER, ns) },
    { kind: 'ClusterRoleBinding', name: clusterScopedName(AGENT, ns) },
    { kind: 'ClusterRole', name: clusterScopedName(AGENT, ns) },
    { kind: 'ServiceAccount', name: DISPATCHER, namespace: ns },
    { kind: 'ServiceAccount', name: AGENT, namespace: ns },
  ];
}

/**
 * Deletes what `up` made; returns what was there to delete (empty: no cluster checks here).
 * The workloads go in the foreground, so waiting for them to be gone waits for their pods.
 */
export async function kubeChecksDown(o: KubeChecksDownOptions): Promise<{ deleted: string[] }> {
  const deleted: string[] = [];
  for (const ref of checksRefs(o.namespace)) {
    const workload = ref.kind === 'Deployment' || ref.kind === 'DaemonSet';
    const gone = !(await o.client.remove(kindPath(ref), `deleting ${describe(ref)}`, {
      propagationPolicy: workload ? 'Foreground' : 'Background',
    }));
    if (!gone) deleted.push(describe(ref));
  }
  if (!o.noWait && deleted.length > 0) await waitFor(o.client, o.clock, o.namespace, 'deleted', o);
  return { deleted };
}
