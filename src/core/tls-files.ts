/**
 * A worker's TLS material as files in one directory, laid out like a `kubernetes.io/tls` Secret
 * mounted as a volume: `ca.crt`, `tls.crt`, `tls.key`. Keys travel this way, never in env.
 */
import { createPrivateKey, randomBytes, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { chmod, mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { FathomError, messageOf } from './errors.js';

/** The run CA and a client pair, PEM. */
export interface TlsMaterial {
  readonly caPem: string;
  readonly certPem: string;
  readonly keyPem: string;
}

export const TLS_FILES = { ca: 'ca.crt', cert: 'tls.crt', key: 'tls.key' } as const;

function parse(dir: string, ca: string, cert: string, key: string): TlsMaterial {
  try {
    new X509Certificate(ca);
    // A renewal caught half-written pairs a new certificate with an old key: refuse it, so the
    // caller's retry reads the files again.
    if (!new X509Certificate(cert).checkPrivateKey(createPrivateKey(key))) {
      throw new Error(`${TLS_FILES.key} does not belong to ${TLS_FILES.cert}`);
    }
  } catch (cause) {
    throw new FathomError('FATHOM_TLS_INVALID', `${dir}: ${messageOf(cause)}`, { cause });
  }
  return { caPem: ca, certPem: cert, keyPem: key };
}

/** Reads and checks the material in `dir`; `FATHOM_TLS_INVALID` when a file is missing or wrong. */
export async function readTlsDir(dir: string): Promise<TlsMaterial> {
  const read = (name: string): Promise<string> => readFile(join(dir, name), 'utf8');
  let files: string[];
  try {
    files = await Promise.all([read(TLS_FILES.ca), read(TLS_FILES.cert), read(TLS_FILES.key)]);
  } catch (cause) {
    throw new FathomError('FATHOM_TLS_INVALID', `${dir}: ${messageOf(cause)}`, { cause });
  }
  return parse(dir, files[0]!, files[1]!, files[2]!);
}

/** `readTlsDir` for start-up checks, where the caller is synchronous. */
export function readTlsDirSync(dir: string): TlsMaterial {
  const read = (name: string): string => readFileSync(join(dir, name), 'utf8');
  let files: string[];
  try {
    files = [read(TLS_FILES.ca), read(TLS_FILES.cert), read(TLS_FILES.key)];
  } catch (cause) {
    throw new FathomError('FATHOM_TLS_INVALID', `${dir}: ${messageOf(cause)}`, { cause });
  }
  return parse(dir, files[0]!, files[1]!, files[2]!);
}

/**
 * Writes the material into `dir` (made 0700), each file 0600 and replaced atomically, the key
 * last so that a reader never pairs the new key with the old certificate for long.
 */
export async function writeTlsDir(dir: string, material: TlsMaterial): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await chmod(dir, 0o700);
  const put = async (name: string, text: string): Promise<void> => {
    const tmp = join(dir, `.${name}.${randomBytes(6).toString('hex')}`);
    const file = await open(tmp, 'wx', 0o600);
    try {
      await file.writeFile(text);
    } finally {
      await file.close();
    }
    await rename(tmp, join(dir, name)).catch(async (err: unknown) => {
      await rm(tmp, { force: true });
      throw err;
    });
  };
  await put(TLS_FILES.ca, material.caPem);
  await put(TLS_FILES.cert, material.certPem);
  await put(TLS_FILES.key, material.keyPem);
}
