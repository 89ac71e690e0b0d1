/**
 * The CLI's way to the dispatcher on Kubernetes (`checks state/results/rebalance/isolate`):
 * the leader replica named by the Lease, else any ready replica (a follower forwards the
 * leader-only calls), through the API server's pod proxy. Not the Service proxy: it picks a
 * replica at random, and a follower answers the state GET itself with `not_running`, as the
 * original does. The call carries the bearer token read from the Secret as X-Fathom-Token,
 * since the API server strips Authorization. The API server refuses to proxy to loopback
 * addresses; a pod with one runs on this very machine (a test kubelet), so fathom then connects
 * to it directly, verifying the dispatcher's certificate against the CA in the Secret.
 */
import https from 'node:https';
import { FathomError, messageOf } from '../../../core/errors.js';
import { TOKEN_HEADER } from '../../../checks/wire.js';
import { resourcePath, type KubeClient } from '../api/client.js';
import { KubeApiError } from '../api/errors.js';
import type { Pod } from '../api/types.js';
import { CHECKS_LEASE, CHECKS_SERVICE, DISPATCHER_PORT, checksSelector } from './names.js';
import { readChecksCa, readChecksToken } from './secrets.js';

export interface DispatcherCallOptions {
  readonly client: KubeClient;
  readonly namespace: string;
  /** A JSON body (POST). */
  readonly body?: string;
  /** For a direct connection; default 10 s. */
  readonly timeoutMs?: number;
}

export interface DispatcherAnswer {
  readonly status: number;
  /** The JSON answer parsed, or the text of a non-JSON one (the dispatcher's errors are text). */
  readonly body: unknown;
  /** The replica (pod) that was called. */
  readonly via: string;
}

const isLoopback = (ip: string): boolean => /^127\./.test(ip) || ip === '::1';

function usable(pod: Pod | undefined): pod is Pod {
  return (
    !!pod &&
    !pod.metadata.deletionTimestamp &&
    pod.status?.phase === 'Running' &&
    !!pod.status.podIP &&
    (pod.status.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True')
  );
}

/** The replica holding the Lease, when it is a running pod. */
async function leaderPod(client: KubeClient, ns: string): Promise<Pod | undefined> {
  const lease = await client.find<{ spec?: { holderIdentity?: string } }>(
    resourcePath('coordination.k8s.io', 'leases', ns, CHECKS_LEASE),
    `reading Lease ${ns}/${CHECKS_LEASE}`,
  );
  const holder = lease?.spec?.holderIdentity;
  if (!holder) return undefined;
  const pod = await client.find<Pod>(
    resourcePath('', 'pods', ns, holder),
    `reading Pod ${ns}/${holder}`,
  );
  return usable(pod) ? pod : undefined;
}

async function anyReplica(client: KubeClient, ns: string): Promise<Pod | undefined> {
  const selector = Object.entries(checksSelector('checks-dispatcher'))
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
  const pods = await client.list<Pod>(
    resourcePath('', 'pods', ns),
    `listing the dispatcher pods in ${ns}`,
    {
      labelSelector: selector,
    },
  );
  return pods.items
    .filter(usable)
    .sort((a, b) => a.metadata.name.localeCompare(b.metadata.name))[0];
}

function parsed(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function direct(
  ns: string,
  pod: Pod,
  method: string,
  path: string,
  token: string,
  caPem: string,
  o: DispatcherCallOptions,
): Promise<DispatcherAnswer> {
  const what = `calling the dispatcher in Pod ${ns}/${pod.metadata.name}`;
  return new Promise((resolve, reject) => {
    const req = https.request(
      {
        host: pod.status!.podIP!,
        port: DISPATCHER_PORT,
        method,
        path,
        ca: caPem,
        servername: `${CHECKS_SERVICE}.${ns}.svc`,
        timeout: o.timeoutMs ?? 10_000,
        headers: {
          authorization: `Bearer ${token}`,
          ...(o.body !== undefined
            ? {
                'content-type': 'application/json',
                'content-length': String(Buffer.byteLength(o.body)),
              }
            : {}),
        },
      },
      (res) => {
        const parts: Buffer[] = [];
        res.on('data', (c: Buffer) => parts.push(c));
        res.on('error', reject);
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            body: parsed(Buffer.concat(parts).toString('utf8')),
            via: pod.metadata.name,
          }),
        );
      },
    );
    req.on('timeout', () => req.destroy(new Error('no answer in time')));
    req.on('error', (err) =>
      reject(
        new FathomError('FATHOM_DISPATCHER_UNAVAILABLE', `${what}: ${messageOf(err)}`, {
          cause: err,
        }),
      ),
    );
    req.end(o.body);
  });
}

/**
 * One call to the dispatcher API (`path` as the dispatcher serves it, e.g.
 * `/api/v1/clusterchecks`). Answers of the dispatcher, errors included, come back as they are;
 * failures to reach it are FathomErrors.
 */
export async function kubeDispatcherCall(
  o: DispatcherCallOptions,
  method: 'GET' | 'POST',
  path: string,
): Promise<DispatcherAnswer> {
  if (!path.startsWith('/api/')) {
    throw new FathomError('FATHOM_INTERNAL', `not a dispatcher API path: ${path}`);
  }
  const { client, namespace: ns } = o;
  const token = await readChecksToken(client, ns);
  if (!token) {
    throw new FathomError(
      'FATHOM_DISPATCHER_UNAVAILABLE',
      `no cluster checks in namespace "${ns}" (no Secret ${ns}/fathom-checks-token): run \`fathom checks up\``,
      { details: { namespace: ns } },
    );
  }
  const pod = (await leaderPod(client, ns)) ?? (await anyReplica(client, ns));
  if (pod && isLoopback(pod.status!.podIP!)) {
    const caPem = await readChecksCa(client, ns);
    if (!caPem)
      throw new FathomError('FATHOM_TLS_INVALID', `Secret ${ns}/fathom-checks-tls has no ca.crt`);
    return direct(ns, pod, method, path, token, caPem, o);
  }
  if (!pod) {
    throw new FathomError(
      'FATHOM_DISPATCHER_UNAVAILABLE',
      `no dispatcher replica is running and ready in namespace "${ns}"`,
      { details: { namespace: ns } },
    );
  }
  const via = pod.metadata.name;
  const proxy = `${resourcePath('', 'pods', ns)}/https:${via}:${DISPATCHER_PORT}/proxy${path}`;
  try {
    const body = await client.request<unknown>(
      method,
      proxy,
      `calling the dispatcher in Pod ${ns}/${via}`,
      {
        headers: { [TOKEN_HEADER]: token },
        ...(o.body !== undefined ? { body: JSON.parse(o.body) as unknown } : {}),
      },
    );
    return { status: 200, body, via };
  } catch (err) {
    // The dispatcher's own error answers are text; the API server's are Status objects.
    const cause = err instanceof FathomError ? err.cause : undefined;
    if (cause instanceof KubeApiError && cause.status?.kind !== 'Status') {
      return { status: cause.statusCode, body: parsed(cause.text), via };
    }
    throw err;
  }
}
