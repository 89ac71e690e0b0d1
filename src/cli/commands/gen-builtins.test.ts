/**
 * `-p e2e` and `-p systemd-logs` through the real command tree, where no peer is needed: the
 * names resolve, bad input is one `error:` line with exit 2, and `gen` never guesses a version.
 * The generated documents are checked against `sonobuoy gen` in test/differential/.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { runMain } from '../../../test/support/main.js';

const gen = (args: readonly string[]) => runMain(['gen', ...args]);

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

  it('focuses a rerun on exactly the failed and timed-out tests, quoted, [It] dropped', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'fathom-rerun-'));
    await mkdir(join(dir, 'plugins/e2e'), { recursive: true });
    await writeFile(
      join(dir, 'plugins/e2e/sonobuoy_results.yaml'),
      [
        'name: e2e',
        'status: failed',
        'items:',
        '- name: junit_01.xml',
        '  status: failed',
        '  items:',
        '  - {name: "[It] [sig-node] Pods should be (re)started", status: failed}',
        '  - {name: "[sig-apps] Job a.b*c", status: timeout}',
        '  - {name: "[sig-apps] passes", status: passed}',
        '  - {name: "[sig-apps] skipped", status: skipped}',
        '',
      ].join('\n'),
    );
    const tarball = join(dir, 'results.tar.gz');
    execFileSync('tar', ['czf', tarball, '-C', dir, 'plugins']);
    const r = await gen([
      '-p',
      'e2e',
      '--kubernetes-version',
      'v1.31.0',
      '--rerun-failed',
      tarball,
    ]);
    expect(r.code, r.err).toBe(0);
    // Ginkgo matches focus against the spec text, which has no [It]: Sonobuoy keeps the space
    // after it, which then cannot match; fathom drops both.
    expect(r.out).toContain(
      'value: \\[sig-node\\] Pods should be \\(re\\)started|\\[sig-apps\\] Job a\\.b\\*c',
    );
    expect(r.out).not.toContain('E2E_SKIP');
  });
});
