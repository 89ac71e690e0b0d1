/**
 * Certificates for the test control plane: one CA that signs the apiserver's serving
 * certificate and every client certificate (Kubernetes reads the user from CN and the groups
 * from O), plus the service-account token signing key pair.
 */
import { KeyObject, webcrypto } from 'node:crypto';
import { createCertificateAuthority, type KeyPair } from '../../src/core/pki.js';

/** A certificate and its private key, both PEM (key in PKCS#8, which every component reads). */
export type CertKey = KeyPair;

/** Who a client certificate authenticates as. */
export interface ClientIdentity {
  /** The user name (certificate CN). */
  readonly user: string;
  /** The groups (one O each), e.g. `system:masters`. */
  readonly groups?: readonly string[];
}

export interface ClusterPki {
  readonly caPem: string;
  /** Serving certificate for the given DNS names and IPs. */
  servingCert(hosts: readonly string[]): Promise<CertKey>;
  clientCert(identity: ClientIdentity): Promise<CertKey>;
  /** Key pair that signs service-account tokens: PKCS#8 private key, SPKI public key. */
  serviceAccountKeys(): Promise<{ privateKeyPem: string; publicKeyPem: string }>;
}

export interface ClusterPkiOptions {
  /** Validity from now; the default covers a long `cluster:up` session. */
  validForMs?: number;
  now?: number;
}

/** RFC 4514 attribute values: escape what would end or split the value. */
function rdnValue(value: string): string {
  return value.replace(/([,+"\\<>;=])/g, '\\$1');
}

/** Makes a fresh CA (ECDSA P-256) for one test cluster. */
export async function createClusterPki(options: ClusterPkiOptions = {}): Promise<ClusterPki> {
  const ca = await createCertificateAuthority({
    name: 'CN=fathom-test-cluster-ca',
    validForMs: options.validForMs ?? 30 * 24 * 3_600_000,
    // Real TLS checks dates against the real time: a test cluster starts from it.
    now: options.now ?? Date.now(),
  });
  return {
    caPem: ca.caPem,
    servingCert: (hosts) =>
      ca.issue({
        subject: `CN=${rdnValue(hosts[0] ?? 'localhost')}`,
        usage: 'server',
        names: hosts,
        keyFormat: 'pkcs8',
      }),
    clientCert: ({ user, groups = [] }) =>
      ca.issue({
        subject: [`CN=${rdnValue(user)}`, ...groups.map((g) => `O=${rdnValue(g)}`)].join(', '),
        usage: 'client',
        keyFormat: 'pkcs8',
      }),
    async serviceAccountKeys() {
      const keys = await webcrypto.subtle.generateKey(
        { name: 'ECDSA', namedCurve: 'P-256' },
        true,
        ['sign', 'verify'],
      );
      return {
        privateKeyPem: KeyObject.from(keys.privateKey)
          .export({ type: 'pkcs8', format: 'pem' })
          .toString(),
        publicKeyPem: KeyObject.from(keys.publicKey)
          .export({ type: 'spki', format: 'pem' })
          .toString(),
      };
    },
  };
}
