import 'reflect-metadata'; // @peculiar/x509 resolves its providers through tsyringe, which needs it
import { createPrivateKey, KeyObject, randomBytes, webcrypto } from 'node:crypto';
import { isIP } from 'node:net';
import * as x509 from '@peculiar/x509';
import { FathomError } from './errors.js';

x509.cryptoProvider.set(webcrypto);

const ecdsa = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const HOUR = 3_600_000;

/** A certificate with its private key, both PEM. Keys are SEC1 (`EC PRIVATE KEY`), which Sonobuoy's worker requires. */
export interface KeyPair {
  readonly certPem: string;
  readonly keyPem: string;
}

/** A per-run certificate authority that signs the aggregator's server certificate and one client certificate per plugin. */
export interface RunCa {
  readonly caPem: string;
  serverCert(hosts: readonly string[]): Promise<KeyPair>;
  clientCert(pluginName: string): Promise<KeyPair>;
}

export interface CaOptions {
  /** Validity from now; Sonobuoy uses 48 h. */
  validForMs?: number;
  now?: number;
}

async function sec1Pem(key: CryptoKey): Promise<string> {
  const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', key));
  return createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' })
    .export({ type: 'sec1', format: 'pem' })
    .toString();
}

function serial(): string {
  // Positive, 16 random bytes: serials must be unique across runs that share a trust store.
  const b = randomBytes(16);
  b[0] = b[0]! & 0x7f;
  return b.toString('hex');
}

function generateKeys(): Promise<CryptoKeyPair> {
  return webcrypto.subtle.generateKey(ecdsa, true, ['sign', 'verify']);
}

/** What a certificate authority issues: one leaf certificate per call. */
export interface CertificateAuthority {
  readonly caPem: string;
  issue(leaf: LeafRequest): Promise<KeyPair>;
}

export interface LeafRequest {
  /** The whole distinguished name, e.g. `CN=e2e, O=fathom`. */
  readonly subject: string;
  readonly usage: 'server' | 'client';
  /** Subject alternative names; hosts that parse as IPs become IP entries. */
  readonly names?: readonly string[];
  /** SEC1 (`EC PRIVATE KEY`, what Sonobuoy's worker requires) or PKCS#8. Default SEC1. */
  readonly keyFormat?: 'sec1' | 'pkcs8';
}

export interface CertificateAuthorityOptions extends CaOptions {
  /** The CA's own distinguished name. */
  readonly name: string;
}

/** A fresh in-memory CA (ECDSA P-256): the run's, or a test cluster's. */
export async function createCertificateAuthority(
  options: CertificateAuthorityOptions,
): Promise<CertificateAuthority> {
  const now = options.now ?? Date.now();
  const notBefore = new Date(now - 5 * 60_000); // tolerate small clock skew between processes
  const notAfter = new Date(now + (options.validForMs ?? 48 * HOUR));
  const caKeys = await generateKeys();
  const ca = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(),
    name: options.name,
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
  return {
    caPem: ca.toString('pem'),
    async issue(leaf) {
      const keys = await generateKeys();
      const names = leaf.names ?? [];
      const extensions: x509.Extension[] = [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
        new x509.ExtendedKeyUsageExtension([
          leaf.usage === 'server'
            ? x509.ExtendedKeyUsage.serverAuth
            : x509.ExtendedKeyUsage.clientAuth,
        ]),
        await x509.AuthorityKeyIdentifierExtension.create(ca),
      ];
      if (names.length > 0) {
        extensions.push(
          new x509.SubjectAlternativeNameExtension(
            names.map((h) => ({ type: isIP(h) ? 'ip' : 'dns', value: h })),
          ),
        );
      }
      const cert = await x509.X509CertificateGenerator.create({
        serialNumber: serial(),
        subject: leaf.subject,
        issuer: ca.subject,
        notBefore,
        notAfter,
        signingAlgorithm: ecdsa,
        publicKey: keys.publicKey,
        signingKey: caKeys.privateKey,
        extensions,
      });
      const keyPem =
        leaf.keyFormat === 'pkcs8'
          ? KeyObject.from(keys.privateKey).export({ type: 'pkcs8', format: 'pem' }).toString()
          : await sec1Pem(keys.privateKey);
      return { certPem: cert.toString('pem'), keyPem };
    },
  };
}

/** Makes a fresh in-memory CA, as Sonobuoy's aggregator does at start. */
export async function createRunCa(options: CaOptions = {}): Promise<RunCa> {
  const ca = await createCertificateAuthority({ ...options, name: 'CN=fathom-ca, O=fathom' });
  return {
    caPem: ca.caPem,
    serverCert: (hosts) =>
      ca.issue({
        subject: `CN=${hosts[0] ?? 'localhost'}, O=fathom`,
        usage: 'server',
        names: hosts,
      }),
    // The plugin's name in the SAN is what the aggregator checks against the upload's path.
    clientCert: (plugin) =>
      ca.issue({ subject: `CN=${plugin}, O=fathom`, usage: 'client', names: [plugin] }),
  };
}

/** The DNS names in a client certificate's SAN: the plugin the certificate was issued for. */
export function certificateDnsNames(certPem: string): string[] {
  try {
    const cert = new x509.X509Certificate(certPem);
    const san = cert.getExtension(x509.SubjectAlternativeNameExtension);
    return san?.names.items.filter((n) => n.type === 'dns').map((n) => n.value) ?? [];
  } catch (cause) {
    throw new FathomError('FATHOM_TLS_INVALID', 'certificate cannot be parsed', { cause });
  }
}
