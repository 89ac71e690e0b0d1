/**
 * Counting fathom's own requests at the API server. Other clients (scheduler, controller-manager,
 * kwok) share the server and `apiserver_request_total` carries no user, so fathom runs as
 * service accounts of its own (never system:masters, whose requests APF exempts) and two
 * server-side counters pick them out: an audit policy that records only those identities (one
 * event per request, with verb and resource), and an API Priority and Fairness FlowSchema that
 * gives them a flow of their own (`apiserver_flowcontrol_dispatched_requests_total`).
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stringify } from 'yaml';
import type { KubeHttp, KubeObject } from '../../test/cluster/kube.js';

/** The run's namespace: fathom creates it; the aggregator's service account lives there. */
export const RUN_NAMESPACE = 'fathom-bench';
/** Where the identity `fathom run` and `fathom retrieve` use lives. */
export const CLI_NAMESPACE = 'fathom-bench-cli';
export const CLI_SA = 'fathom-cli';
export const FLOW_SCHEMA = 'fathom-bench';

/** Every service account of both namespaces: the CLI's, the aggregator's, the plugins'. */
const FATHOM_GROUPS = [RUN_NAMESPACE, CLI_NAMESPACE].map((ns) => `system:serviceaccounts:${ns}`);

/**
 * kube-apiserver flags and the policy file for an audit log of fathom's requests only. Events at
 * RequestReceived (one per request, watches included) and ResponseComplete (the status code).
 */
export async function writeAuditPolicy(dir: string): Promise<{ log: string; args: string[] }> {
  const policy = join(dir, 'audit-policy.yaml');
  const log = join(dir, 'audit.log');
  await writeFile(
    policy,
    stringify({
      apiVersion: 'audit.k8s.io/v1',
      kind: 'Policy',
      omitStages: ['ResponseStarted'],
      rules: [{ level: 'Metadata', userGroups: FATHOM_GROUPS }, { level: 'None' }],
    }),
  );
  return {
    log,
    args: [`--audit-policy-file=${policy}`, `--audit-log-path=${log}`, '--audit-log-maxsize=0'],
  };
}

async function mustCreate(api: KubeHttp, path: string, body: object): Promise<void> {
  const res = await api.request('POST', path, body);
  if (res.status !== 201 && res.status !== 200)
    throw new Error(`POST ${path}: HTTP ${res.status}: ${res.text.slice(0, 300)}`);
}

/**
 * A priority level and a FlowSchema (precedence 50: ahead of `service-accounts` at 9000) for
 * fathom's groups; resolves once the server has taken the schema in (Dangling=False).
 */
export async function createFathomFlow(api: KubeHttp): Promise<void> {
  const base = '/apis/flowcontrol.apiserver.k8s.io/v1';
  await mustCreate(api, `${base}/prioritylevelconfigurations`, {
    apiVersion: 'flowcontrol.apiserver.k8s.io/v1',
    kind: 'PriorityLevelConfiguration',
    metadata: { name: FLOW_SCHEMA },
    spec: {
      type: 'Limited',
      limited: {
        nominalConcurrencyShares: 40, // as workload-high: fathom is never queued behind others
        limitResponse: {
          type: 'Queue',
          queuing: { queues: 16, handSize: 4, queueLengthLimit: 50 },
        },
      },
    },
  });
  await mustCreate(api, `${base}/flowschemas`, {
    apiVersion: 'flowcontrol.apiserver.k8s.io/v1',
    kind: 'FlowSchema',
    metadata: { name: FLOW_SCHEMA },
    spec: {
      priorityLevelConfiguration: { name: FLOW_SCHEMA },
      matchingPrecedence: 50,
      distinguisherMethod: { type: 'ByUser' },
      rules: [
        {
          subjects: FATHOM_GROUPS.map((name) => ({ kind: 'Group', group: { name } })),
          resourceRules: [
            {
              verbs: ['*'],
              apiGroups: ['*'],
              resources: ['*'],
              clusterScope: true,
              namespaces: ['*'],
            },
          ],
          nonResourceRules: [{ verbs: ['*'], nonResourceURLs: ['*'] }],
        },
      ],
    },
  });
  type Schema = KubeObject & { status?: { conditions?: { type: string; status: string }[] } };
  await api.waitForList<Schema, true>(
    `${base}/flowschemas?fieldSelector=metadata.name%3D${FLOW_SCHEMA}`,
    (all) =>
      [...all.values()].some((s) =>
        s.status?.conditions?.some((c) => c.type === 'Dangling' && c.status === 'False'),
      )
        ? true
        : undefined,
    60_000,
  );
}

/** A kubeconfig with a fresh token of `namespace/sa` (TokenRequest by the admin). */
export async function serviceAccountKubeconfig(
  api: KubeHttp,
  options: { namespace: string; sa: string; server: string; caPem: string; file: string },
): Promise<string> {
  const { namespace, sa } = options;
  const token = await api.create<{ status: { token: string } }>(
    `/api/v1/namespaces/${namespace}/serviceaccounts/${sa}/token`,
    {
      apiVersion: 'authentication.k8s.io/v1',
      kind: 'TokenRequest',
      spec: { expirationSeconds: 4 * 3600 },
    },
  );
  await writeFile(
    options.file,
    stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [
        {
          name: 'bench',
          cluster: {
            server: options.server,
            'certificate-authority-data': Buffer.from(options.caPem).toString('base64'),
          },
        },
      ],
      users: [{ name: sa, user: { token: token.status.token } }],
      contexts: [{ name: sa, context: { cluster: 'bench', user: sa, namespace } }],
      'current-context': sa,
    }),
    { mode: 0o600 },
  );
  return options.file;
}

/**
 * The identity of `fathom run` and `fathom retrieve`: a service account bound to cluster-admin
 * (what a user running Sonobuoy-style tooling has), but not in system:masters.
 */
export async function createCliIdentity(
  api: KubeHttp,
  options: { server: string; caPem: string; file: string },
): Promise<string> {
  await api.create('/api/v1/namespaces', {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name: CLI_NAMESPACE },
  });
  await api.create(`/api/v1/namespaces/${CLI_NAMESPACE}/serviceaccounts`, {
    apiVersion: 'v1',
    kind: 'ServiceAccount',
    metadata: { name: CLI_SA },
  });
  await api.create('/apis/rbac.authorization.k8s.io/v1/clusterrolebindings', {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRoleBinding',
    metadata: { name: 'fathom-bench-cli' },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'cluster-admin' },
    subjects: [{ kind: 'ServiceAccount', name: CLI_SA, namespace: CLI_NAMESPACE }],
  });
  return serviceAccountKubeconfig(api, { ...options, namespace: CLI_NAMESPACE, sa: CLI_SA });
}

export interface MetricsSnapshot {
  /** `apiserver_flowcontrol_dispatched_requests_total` of fathom's FlowSchema. */
  fathomDispatched: number;
  /** The same per FlowSchema (to show that exempt and others are counted apart). */
  dispatchedByFlow: Record<string, number>;
  /** `apiserver_request_total` summed: every client's requests. */
  requestTotal: number;
  /** `apiserver_terminated_watchers_total`: watchers the server closed for falling behind. */
  terminatedWatchers: number;
}

/** Sums the samples of each counter in Prometheus text; by label `by` when given. */
function sumSamples(text: string, name: string, by?: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    const value = Number(line.slice(line.lastIndexOf(' ') + 1));
    const key = by ? (new RegExp(`${by}="([^"]*)"`).exec(line)?.[1] ?? '') : '';
    out.set(key, (out.get(key) ?? 0) + value);
  }
  return out;
}

/** GET /metrics on the API server (as the admin, whose requests are not fathom's). */
export async function scrapeMetrics(api: KubeHttp): Promise<MetricsSnapshot> {
  const res = await api.request('GET', '/metrics');
  if (res.status !== 200) throw new Error(`GET /metrics: HTTP ${res.status}`);
  const byFlow = sumSamples(
    res.text,
    'apiserver_flowcontrol_dispatched_requests_total',
    'flow_schema',
  );
  if (byFlow.size === 0)
    throw new Error('/metrics has no apiserver_flowcontrol_dispatched_requests_total');
  return {
    fathomDispatched: byFlow.get(FLOW_SCHEMA) ?? 0,
    dispatchedByFlow: Object.fromEntries(byFlow),
    requestTotal: sumSamples(res.text, 'apiserver_request_total').get('') ?? 0,
    terminatedWatchers: sumSamples(res.text, 'apiserver_terminated_watchers_total').get('') ?? 0,
  };
}

interface AuditEvent {
  auditID: string;
  stage: string;
  verb: string;
  requestURI: string;
  user?: { username?: string };
  objectRef?: { resource?: string; subresource?: string };
  responseStatus?: { code?: number };
  requestReceivedTimestamp: string;
}

export interface AuditCount {
  total: number;
  /** `verb` → requests. */
  byVerb: Record<string, number>;
  /** `user verb resource[/subresource]` → requests (user without the SA prefix). */
  byCall: Record<string, number>;
  /** HTTP status → requests (those that completed). */
  byCode: Record<string, number>;
  /** Requests APF does not see: long-running ones other than watches (pod proxy, logs). */
  longRunningNonWatch: number;
}

/** Counts the requests in the audit log received in [from, to) (epoch ms); one per auditID. */
export async function countAudit(file: string, from = 0, to = Infinity): Promise<AuditCount> {
  const text = await readFile(file, 'utf8').catch(() => '');
  const seen = new Map<string, AuditEvent>();
  const codes = new Map<string, number>();
  for (const line of text.split('\n')) {
    let e: AuditEvent;
    try {
      e = JSON.parse(line) as AuditEvent;
    } catch {
      continue; // empty, or a last line still being written
    }
    const at = Date.parse(e.requestReceivedTimestamp);
    if (at < from || at >= to) continue;
    if (!seen.has(e.auditID)) seen.set(e.auditID, e);
    if (e.responseStatus?.code !== undefined) codes.set(e.auditID, e.responseStatus.code);
  }
  const c: AuditCount = { total: 0, byVerb: {}, byCall: {}, byCode: {}, longRunningNonWatch: 0 };
  const bump = (o: Record<string, number>, k: string): void => void (o[k] = (o[k] ?? 0) + 1);
  for (const [id, e] of seen) {
    c.total++;
    bump(c.byVerb, e.verb);
    const user = (e.user?.username ?? '?').replace(/^system:serviceaccount:/, '');
    const ref = e.objectRef;
    const resource = ref?.resource
      ? `${ref.resource}${ref.subresource ? `/${ref.subresource}` : ''}`
      : e.requestURI.split('?')[0]!;
    bump(c.byCall, `${user} ${e.verb} ${resource}`);
    bump(c.byCode, String(codes.get(id) ?? 'open'));
    if (['proxy', 'log', 'exec', 'attach', 'portforward'].includes(ref?.subresource ?? ''))
      c.longRunningNonWatch++;
  }
  return c;
}
