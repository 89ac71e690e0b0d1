/**
 * Certificates for the test control plane: one CA that signs the apiserver's serving
 * certificate and every client certificate (Kubernetes reads the user from CN and the groups
 * from O), plus the service-account token signing key pair.
 */
import 'reflect-metadata'; // @peculiar/x509 resolves its providers through tsyringe
import { KeyObject, randomBytes, webcrypto } from 'node:crypto';
import { isIP } from 'node:net';
import * as x509 from '@peculiar/x509';

x509.cryptoProvider.set(webcrypto);

const ecdsa = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;

/** A certificate and its private key, both PEM (key in PKCS#8, which every component reads). */
export interface CertKey {
  readonly certPem: string;
  readonly keyPem: string;
}

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

function serial(): string {
  const b = randomBytes(16);
  b[0] = b[0]! & 0x7f; // positive
  return b.toString('hex');
}

function generateKeys(): Promise<CryptoKeyPair> {
  return webcrypto.subtle.generateKey(ecdsa, true, ['sign', 'verify']);
}

function privatePem(key: CryptoKey): string {
  return KeyObject.from(key).export({ type: 'pkcs8', format: 'pem' }).toString();
}

function publicPem(key: CryptoKey): string {
  return KeyObject.from(key).export({ type: 'spki', format: 'pem' }).toString();
}

/** RFC 4514 attribute values: escape what would end or split the value. */
function rdnValue(value: string): string {
  return value.replace(/([,+"\\<>;=])/g, '\\$1');
}

/** Makes a fresh CA (ECDSA P-256) for one test cluster. */
export async function createClusterPki(options: ClusterPkiOptions = {}): Promise<ClusterPki> {
  const now = options.now ?? Date.now();
  const notBefore = new Date(now - 5 * 60_000); // tolerate small skew between processes
  const notAfter = new Date(now + (options.validForMs ?? 30 * 24 * 3_600_000));
  const caKeys = await generateKeys();
  const ca = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(),
    name: 'CN=fathom-test-cluster-ca',
    notBefore,
    notAfter,
    signingAlgorithm: ecdsa,
    keys: caKeys,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(
        x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign,
        true,
      ),
      await x509.SubjectKeyIdentifierExtension.create(caKeys.publicKey),
    ],
  });

  async function leaf(
    subject: string,
    usage: x509.ExtendedKeyUsage,
    names: x509.JsonGeneralName[],
  ): Promise<CertKey> {
    const keys = await generateKeys();
    const extensions: x509.Extension[] = [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([usage]),
      await x509.AuthorityKeyIdentifierExtension.create(ca),
    ];
    if (names.length > 0) extensions.push(new x509.SubjectAlternativeNameExtension(names));
    const cert = await x509.X509CertificateGenerator.create({
      serialNumber: serial(),
      subject,
      issuer: ca.subject,
      notBefore,
      notAfter,
      signingAlgorithm: ecdsa,
      publicKey: keys.publicKey,
      signingKey: caKeys.privateKey,
      extensions,
    });
    return { certPem: cert.toString('pem'), keyPem: privatePem(keys.privateKey) };
  }

  return {
    caPem: ca.toString('pem'),
    servingCert: (hosts) =>
      leaf(
        `CN=${rdnValue(hosts[0] ?? 'localhost')}`,
        x509.ExtendedKeyUsage.serverAuth,
        hosts.map((h) => ({ type: isIP(h) ? 'ip' : 'dns', value: h })),
      ),
    clientCert: ({ user, groups = [] }) =>
      leaf(
        [`CN=${rdnValue(user)}`, ...groups.map((g) => `O=${rdnValue(g)}`)].join(', '),
        x509.ExtendedKeyUsage.clientAuth,
        [],
      ),
    async serviceAccountKeys() {
      const keys = await generateKeys();
      return {
        privateKeyPem: privatePem(keys.privateKey),
        publicKeyPem: publicPem(keys.publicKey),
      };
    },
  };
}
