import 'reflect-metadata'; // @peculiar/x509 resolves its providers through tsyringe, which needs it
import { createPrivateKey, createPublicKey, KeyObject, randomBytes, webcrypto } from 'node:crypto';
import { open, readFile, rename, rm } from 'node:fs/promises';
import { isIP } from 'node:net';
import * as x509 from '@peculiar/x509';
import { FathomError, messageOf } from './errors.js';

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
  /** The CA certificate's end of validity, ms since the epoch. */
  readonly notAfter: number;
  /** Without `validity` a leaf is valid as long as the CA. */
  serverCert(hosts: readonly string[], validity?: Validity): Promise<KeyPair>;
  clientCert(pluginName: string, validity?: Validity): Promise<KeyPair>;
  /** The same CA (name and key) with a new certificate valid for `validity`. */
  renewed(validity: Validity): Promise<RunCa>;
  /** What `restoreRunCa` needs to rebuild this CA: its certificate and private key. */
  exportState(): RunCaState;
}

/** A run CA at rest (see `saveRunCa`). The key is PKCS#8 PEM. */
export interface RunCaState {
  readonly version: 1;
  readonly caPem: string;
  readonly caKeyPem: string;
}

export interface CaOptions {
  /** Validity from `now`; Sonobuoy uses 48 h. */
  validForMs?: number;
  /** The caller's clock reading: certificates start (and end) relative to it. */
  now: number;
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

/** A window of validity: from `now` (less the skew allowance) for `validForMs`. */
export interface Validity {
  readonly now: number;
  readonly validForMs: number;
}

/** What a certificate authority issues: one leaf certificate per call. */
export interface CertificateAuthority {
  readonly caPem: string;
  /** The CA certificate's end of validity, ms since the epoch: no leaf outlives it. */
  readonly notAfter: number;
  /** A leaf valid for `validity`, or for the CA's own window when none is given. */
  issue(leaf: LeafRequest, validity?: Validity): Promise<KeyPair>;
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

// Tolerate small clock skew between processes and nodes.
const SKEW_MS = 5 * 60_000;

function window(v: Validity): { notBefore: Date; notAfter: Date } {
  return { notBefore: new Date(v.now - SKEW_MS), notAfter: new Date(v.now + v.validForMs) };
}

async function selfSigned(
  name: string,
  keys: CryptoKeyPair,
  validity: Validity,
): Promise<x509.X509Certificate> {
  return x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(),
    name,
    ...window(validity),
    signingAlgorithm: ecdsa,
    keys,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(
        x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign,
        true,
      ),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
}

/** The issuing half of a CA: its certificate and key pair. */
function authority(ca: x509.X509Certificate, caKeys: CryptoKeyPair): CertificateAuthority {
  return {
    caPem: ca.toString('pem'),
    notAfter: ca.notAfter.getTime(),
    async issue(leaf, validity) {
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
      const own = validity ? window(validity) : { notBefore: ca.notBefore, notAfter: ca.notAfter };
      const cert = await x509.X509CertificateGenerator.create({
        serialNumber: serial(),
        subject: leaf.subject,
        issuer: ca.subject,
        notBefore: own.notBefore,
        // A leaf that outlived its CA would fail verification anyway: say so in the certificate.
        notAfter: own.notAfter < ca.notAfter ? own.notAfter : ca.notAfter,
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

/** A fresh in-memory CA (ECDSA P-256): the run's, or a test cluster's. */
export async function createCertificateAuthority(
  options: CertificateAuthorityOptions,
): Promise<CertificateAuthority> {
  const caKeys = await generateKeys();
  const validity = { now: options.now, validForMs: options.validForMs ?? 48 * HOUR };
  return authority(await selfSigned(options.name, caKeys, validity), caKeys);
}

/** Makes a fresh in-memory CA, as Sonobuoy's aggregator does at start. */
export async function createRunCa(options: CaOptions): Promise<RunCa> {
  const caKeys = await generateKeys();
  const validity = { now: options.now, validForMs: options.validForMs ?? 48 * HOUR };
  return runCa(await selfSigned(RUN_CA_NAME, caKeys, validity), caKeys);
}

const RUN_CA_NAME = 'CN=fathom-ca, O=fathom';

function runCa(cert: x509.X509Certificate, caKeys: CryptoKeyPair): RunCa {
  const ca = authority(cert, caKeys);
  return {
    caPem: ca.caPem,
    notAfter: ca.notAfter,
    serverCert: (hosts, validity) =>
      ca.issue(
        { subject: `CN=${hosts[0] ?? 'localhost'}, O=fathom`, usage: 'server', names: hosts },
        validity,
      ),
    // The plugin's name in the SAN is what the aggregator checks against the upload's path.
    clientCert: (plugin, validity) =>
      ca.issue({ subject: `CN=${plugin}, O=fathom`, usage: 'client', names: [plugin] }, validity),
    // Same name and key: what either certificate signed verifies under the other.
    renewed: async (validity) => runCa(await selfSigned(RUN_CA_NAME, caKeys, validity), caKeys),
    exportState: () => ({
      version: 1,
      caPem: ca.caPem,
      caKeyPem: KeyObject.from(caKeys.privateKey)
        .export({ type: 'pkcs8', format: 'pem' })
        .toString(),
    }),
  };
}

/** Rebuilds a run CA from `exportState()`: certificates it issues verify under the original. */
export async function restoreRunCa(state: RunCaState): Promise<RunCa> {
  try {
    if (state.version !== 1) throw new Error(`unknown version ${String(state.version)}`);
    const cert = new x509.X509Certificate(state.caPem);
    const key = createPrivateKey(state.caKeyPem);
    const spki = createPublicKey(key).export({ type: 'spki', format: 'der' });
    if (!Buffer.from(cert.publicKey.rawData).equals(spki)) {
      throw new Error('the key does not belong to the certificate');
    }
    const pkcs8 = key.export({ type: 'pkcs8', format: 'der' });
    const caKeys: CryptoKeyPair = {
      privateKey: await webcrypto.subtle.importKey('pkcs8', pkcs8, ecdsa, true, ['sign']),
      publicKey: await webcrypto.subtle.importKey('spki', spki, ecdsa, true, ['verify']),
    };
    return runCa(cert, caKeys);
  } catch (cause) {
    throw new FathomError('FATHOM_TLS_INVALID', `run CA state: ${messageOf(cause)}`, { cause });
  }
}

/**
 * Writes the CA's state (JSON: `version`, `caPem`, `caKeyPem`) to `path`, mode 0600, atomically:
 * a temporary file beside it, flushed to disk, then renamed over it.
 */
export async function saveRunCa(ca: RunCa, path: string): Promise<void> {
  const tmp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  const file = await open(tmp, 'wx', 0o600);
  try {
    await file.writeFile(`${JSON.stringify(ca.exportState())}\n`);
    await file.sync();
  } finally {
    await file.close();
  }
  try {
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}

/** Reads what `saveRunCa` wrote; `FATHOM_TLS_INVALID` when it is missing or damaged. */
export async function loadRunCa(path: string): Promise<RunCa> {
  let state: unknown;
  try {
    state = JSON.parse(await readFile(path, 'utf8'));
  } catch (cause) {
    throw new FathomError('FATHOM_TLS_INVALID', `run CA state ${path}: ${messageOf(cause)}`, {
      cause,
    });
  }
  const s = state as Partial<RunCaState> | null;
  if (typeof s?.caPem !== 'string' || typeof s.caKeyPem !== 'string') {
    throw new FathomError('FATHOM_TLS_INVALID', `run CA state ${path}: caPem or caKeyPem missing`);
  }
  return restoreRunCa(s as RunCaState);
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
