/**
 * `-p e2e` and `-p systemd-logs` through the real command tree, where no peer is needed: the
 * names resolve, bad input is one `error:` line with exit 2, and `gen` never guesses a version.
 * The generated documents are checked against `sonobuoy gen` in test/differential/.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import type { Io } from '../context.js';
import { main } from '../main.js';

async function gen(args: readonly string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const io: Io = {
    out: (t) => void (out += t),
    err: (t) => void (err += t),
    isTTY: false,
    env: {},
    cwd: process.cwd(),
    stdin: (async function* () {})(),
  };
  const code = await main(['node', 'fathom', 'gen', ...args], io);
  return { code, out, err };
}

const oneLine = (r: { code: number; out: string; err: string }, message: string): void => {
  expect(r.code).toBe(2);
  expect(r.out).toBe('');
  expect(r.err).toBe(`error: ${message}\n`);
};

const tarballs = join(process.cwd(), '../shared/conformance/sonobuoy/test/integration/testdata');

describe('fathom gen -p e2e / systemd-logs', () => {
  it('needs --kubernetes-version for e2e: gen does not ask the cluster', async () => {
    oneLine(
      await gen(['-p', 'e2e']),
      'gen cannot ask the cluster for its version: give --kubernetes-version for the e2e plugin',
    );
  });

  it('generates systemd-logs alone without a version', async () => {
    const r = await gen(['-p', 'systemd-logs']);
    expect(r.code, r.err).toBe(0);
    const plugins = parseAllDocuments(r.out)
      .map((d) => d.toJS() as { metadata?: { name: string }; data?: Record<string, string> })
      .find((o) => o.metadata?.name === 'fathom-plugins');
    expect(plugins?.data?.['plugin-0.yaml']).toContain('image: sonobuoy/systemd-logs:v0.4');
  });

  it('renames a built-in with NAME@newname', async () => {
    const r = await gen(['-p', 'e2e@conformance', '--kubernetes-version', 'v1.31.0']);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toContain('plugin-name: conformance');
  });

  it('lists the built-in plugins for an unknown name', async () => {
    oneLine(
      await gen(['-p', 'e2e-lite']),
      '--plugin e2e-lite: no such file, directory or built-in plugin (built-in: e2e, systemd-logs, node-inventory, smoke-gojson, smoke-junit)',
    );
  });

  it('refuses --plugin-image for a plugin not in the run', async () => {
    oneLine(
      await gen(['-p', 'systemd-logs', '--plugin-image', 'e2e:x:1']),
      '--plugin-image "e2e:x:1": no plugin named "e2e" in this run (plugins: systemd-logs)',
    );
  });

  it('refuses --rerun-failed without a tarball, and --e2e-repo-config without a file', async () => {
    oneLine(
      await gen([
        '-p',
        'e2e',
        '--kubernetes-version',
        'v1.31.0',
        '--rerun-failed',
        '/nonexistent.tar.gz',
      ]),
      '--rerun-failed /nonexistent.tar.gz: no such file',
    );
    const r = await gen([
      '-p',
      'e2e',
      '--kubernetes-version',
      'v1.31.0',
      '--e2e-repo-config',
      '/nonexistent.yaml',
    ]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^error: --e2e-repo-config \/nonexistent.yaml: cannot read it: /);
  });

  it.skipIf(!existsSync(tarballs))('says so when the tarball holds no e2e results', async () => {
    oneLine(
      await gen([
        '-p',
        'e2e',
        '--kubernetes-version',
        'v1.31.0',
        '--rerun-failed',
        join(tarballs, 'results-missing-e2e.tar.gz'),
      ]),
      `--rerun-failed ${join(tarballs, 'results-missing-e2e.tar.gz')}: failed to find file "plugins/e2e/sonobuoy_results.yaml" in archive (the tarball holds no e2e results)`,
    );
  });
});
