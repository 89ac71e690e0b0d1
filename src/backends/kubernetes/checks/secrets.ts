/**
 * The token and TLS material of cluster checks: made fresh at `gen checks` / first `checks up`,
 * and kept by later `checks up` runs while the certificate has long enough to live, so agents
 * and the CLI keep working across re-applies. The CA's key is never kept: it signs the
 * dispatcher's certificate once and is dropped, so nothing can mint another.
 */
import { randomBytes, X509Certificate } from 'node:crypto';
import { createCertificateAuthority } from '../../../core/pki.js';
import { resourcePath, type KubeClient } from '../api/client.js';
import type { Secret } from '../api/types.js';
import type { ChecksSecrets } from './manifests.js';
import { CA_KEY, TLS_SECRET, TOKEN_KEY, TOKEN_SECRET, serviceHosts } from './names.js';

const DAY = 86_400_000;
/** A year: the dispatcher is long-running and nothing renews its certificate in place. */
export const CERT_VALIDITY_MS = 365 * DAY;
/** `checks up` makes new material when the certificate ends sooner than this. */
export const RENEW_BEFORE_MS = 30 * DAY;

export interface SecretsOptions {
  readonly namespace: string;
  /** The caller's clock reading. */
  readonly now: number;
  /** More names or IPs the dispatcher's certificate must be valid for. */
  readonly extraHosts?: readonly string[];
}

export async function generateChecksSecrets(o: SecretsOptions): Promise<ChecksSecrets> {
  const ca = await createCertificateAuthority({
    name: `CN=fathom-checks-ca ${o.namespace}, O=fathom`,
    now: o.now,
    validForMs: CERT_VALIDITY_MS,
  });
  const hosts = [...serviceHosts(o.namespace), ...(o.extraHosts ?? [])];
  const pair = await ca.issue({
    subject: `CN=${hosts[0]!}, O=fathom`,
    usage: 'server',
    names: hosts,
    keyFormat: 'pkcs8',
  });
  return {
    token: randomBytes(32).toString('hex'),
    caPem: ca.caPem,
    certPem: pair.certPem,
    keyPem: pair.keyPem,
  };
}

function decoded(secret: Secret | undefined, key: string): string | undefined {
  const v = secret?.data?.[key];
  return v === undefined ? undefined : Buffer.from(v, 'base64').toString('utf8');
}

/** The token in the cluster, or undefined when the Secret or its key is missing. */
export async function readChecksToken(
  client: KubeClient,
  namespace: string,
): Promise<string | undefined> {
  const secret = await client.find<Secret>(
    resourcePath('', 'secrets', namespace, TOKEN_SECRET),
    `reading Secret ${namespace}/${TOKEN_SECRET}`,
  );
  return decoded(secret, TOKEN_KEY)?.trim() || undefined;
}

/** The dispatcher's CA, for verifying it when fathom connects to a pod directly. */
export async function readChecksCa(
  client: KubeClient,
  namespace: string,
): Promise<string | undefined> {
  const secret = await client.find<Secret>(
    resourcePath('', 'secrets', namespace, TLS_SECRET),
    `reading Secret ${namespace}/${TLS_SECRET}`,
  );
  return decoded(secret, CA_KEY);
}

/**
 * The material already in the cluster when it is whole, names every host asked for, and lives
 * longer than RENEW_BEFORE_MS; else undefined (the caller makes new).
 */
export async function reusableChecksSecrets(
  client: KubeClient,
  o: SecretsOptions,
): Promise<ChecksSecrets | undefined> {
  const tls = await client.find<Secret>(
    resourcePath('', 'secrets', o.namespace, TLS_SECRET),
    `reading Secret ${o.namespace}/${TLS_SECRET}`,
  );
  const token = await readChecksToken(client, o.namespace);
  const caPem = decoded(tls, CA_KEY);
  const certPem = decoded(tls, 'tls.crt');
  const keyPem = decoded(tls, 'tls.key');
  if (!token || !caPem || !certPem || !keyPem) return undefined;
  try {
    const cert = new X509Certificate(certPem);
    if (!cert.verify(new X509Certificate(caPem).publicKey)) return undefined;
    if (Date.parse(cert.validTo) - o.now < RENEW_BEFORE_MS) return undefined;
    const names = (cert.subjectAltName ?? '').split(', ').map((n) => n.replace(/^[^:]+:/, ''));
    const wanted = [...serviceHosts(o.namespace), ...(o.extraHosts ?? [])];
    if (!wanted.every((h) => names.includes(h))) return undefined;
  } catch {
    return undefined;
  }
  return { token, caPem, certPem, keyPem };
}
