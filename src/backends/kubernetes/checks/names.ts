/** Names, labels, ports and mount paths of the cluster-checks objects on Kubernetes. Pure. */
import { COMPONENT, LABEL } from '../names.js';

/** The Service, and the Lease the dispatcher replicas elect a leader with. */
export const CHECKS_SERVICE = 'fathom-checks';
export const CHECKS_LEASE = 'fathom-checks';
export const DISPATCHER = 'fathom-checks-dispatcher';
export const AGENT = 'fathom-checks-agent';
/** The bearer token agents and the CLI present (key `token`). */
export const TOKEN_SECRET = 'fathom-checks-token';
/** The dispatcher's serving pair and its CA (`kubernetes.io/tls`: tls.crt, tls.key, ca.crt). */
export const TLS_SECRET = 'fathom-checks-tls';
/** The CA alone, for agents: they verify the dispatcher and never see its key. */
export const CA_SECRET = 'fathom-checks-ca';
/** `checks up -f DIR`: the directory's files, labelled as a check source. */
export const CONFIGS_CONFIG_MAP = 'fathom-checks-configs';

export const TOKEN_KEY = 'token';
export const CA_KEY = 'ca.crt';
export const DISPATCHER_PORT = 5005;
/** The agent's own /healthz and /metrics. */
export const AGENT_PORT = 5006;

export const TOKEN_DIR = '/etc/fathom/token';
export const TLS_DIR = '/etc/fathom/tls';
export const CA_DIR = '/etc/fathom/ca';
export const AGENT_STATE_DIR = '/var/lib/fathom-agent';

/** Changes whenever the Secrets change, so a new token or certificate rolls the pods. */
export const SECRETS_ANNOTATION = 'fathom.dev/checks-secrets';
export const PART_OF = 'app.kubernetes.io/part-of';
export const PART_OF_CHECKS = 'fathom-checks';

export type ChecksRole = 'checks-dispatcher' | 'checks-agent' | 'checks';

export function checksLabels(role: ChecksRole): Record<string, string> {
  return { [LABEL.component]: COMPONENT, [PART_OF]: PART_OF_CHECKS, [LABEL.role]: role };
}

/** What selects a role's pods (the Deployment's, the DaemonSet's, the Service's). */
export function checksSelector(role: 'checks-dispatcher' | 'checks-agent'): Record<string, string> {
  return { [LABEL.component]: COMPONENT, [LABEL.role]: role };
}

/** Cluster-scoped names carry the namespace: two namespaces may each run checks. */
export function clusterScopedName(
  base: typeof DISPATCHER | typeof AGENT,
  namespace: string,
): string {
  return `${base}-${namespace}`;
}

/** The names the dispatcher's certificate is valid for: the Service's, as pods resolve it. */
export function serviceHosts(namespace: string): string[] {
  const s = CHECKS_SERVICE;
  return [`${s}.${namespace}.svc`, s, `${s}.${namespace}`, `${s}.${namespace}.svc.cluster.local`];
}

export function dispatcherUrl(namespace: string): string {
  return `https://${CHECKS_SERVICE}.${namespace}.svc:${DISPATCHER_PORT}`;
}
