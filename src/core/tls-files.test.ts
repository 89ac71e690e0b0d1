import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createRunCa } from './pki.js';
import { readTlsDir, TLS_FILES, writeTlsDir } from './tls-files.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fathom-tls-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('TLS material as files', () => {
  it('writes a 0700 directory of 0600 files and reads them back', async () => {
    const ca = await createRunCa({ now: Date.now() });
    const client = await ca.clientCert('e2e');
    const tls = join(dir, 'tls', 'e2e');
    await writeTlsDir(tls, { caPem: ca.caPem, ...client });
    expect((await stat(tls)).mode & 0o777).toBe(0o700);
    expect((await readdir(tls)).sort()).toEqual(['ca.crt', 'tls.crt', 'tls.key']);
    for (const name of Object.values(TLS_FILES)) {
      expect((await stat(join(tls, name))).mode & 0o777).toBe(0o600);
    }
    expect(await readTlsDir(tls)).toEqual({ caPem: ca.caPem, ...client });
  });

  it('refuses a key that does not belong to the certificate, and a missing file', async () => {
    const ca = await createRunCa({ now: Date.now() });
    const a = await ca.clientCert('e2e');
    const b = await ca.clientCert('e2e');
    await writeTlsDir(dir, { caPem: ca.caPem, certPem: a.certPem, keyPem: b.keyPem });
    await expect(readTlsDir(dir)).rejects.toMatchObject({ code: 'FATHOM_TLS_INVALID' });
    await rm(join(dir, TLS_FILES.key));
    await expect(readTlsDir(dir)).rejects.toMatchObject({ code: 'FATHOM_TLS_INVALID' });
  });
});
