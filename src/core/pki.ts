import 'reflect-metadata'; // @peculiar/x509 resolves its providers through tsyringe, which needs it
import { createPrivateKey, randomBytes, webcrypto } from 'node:crypto';
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

/** Makes a fresh in-memory CA (ECDSA P-256), as Sonobuoy's aggregator does at start. */
export async function createRunCa(options: CaOptions = {}): Promise<RunCa> {
  const now = options.now ?? Date.now();
  const notBefore = new Date(now - 5 * 60_000); // tolerate small clock skew between processes
  const notAfter = new Date(now + (options.validForMs ?? 48 * HOUR));
  const caKeys = await generateKeys();
  const ca = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(),
    name: 'CN=fathom-ca, O=fathom',
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
    cn: string,
    usage: x509.ExtendedKeyUsage,
    names: x509.JsonGeneralName[],
  ): Promise<KeyPair> {
    const keys = await generateKeys();
    const cert = await x509.X509CertificateGenerator.create({
      serialNumber: serial(),
      subject: `CN=${cn}, O=fathom`,
      issuer: ca.subject,
      notBefore,
      notAfter,
      signingAlgorithm: ecdsa,
      publicKey: keys.publicKey,
      signingKey: caKeys.privateKey,
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
        new x509.ExtendedKeyUsageExtension([usage]),
        new x509.SubjectAlternativeNameExtension(names),
        await x509.AuthorityKeyIdentifierExtension.create(ca),
      ],
    });
    return { certPem: cert.toString('pem'), keyPem: await sec1Pem(keys.privateKey) };
  }

  return {
    caPem: ca.toString('pem'),
    serverCert: (hosts) =>
      leaf(
        hosts[0] ?? 'localhost',
        x509.ExtendedKeyUsage.serverAuth,
        hosts.map((h) => ({ type: isIP(h) ? 'ip' : 'dns', value: h })),
      ),
    clientCert: (plugin) =>
      leaf(plugin, x509.ExtendedKeyUsage.clientAuth, [{ type: 'dns', value: plugin }]),
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
