/**
 * Differential test: fathom's meta/clusterhealth.json against Sonobuoy's own golden for its
 * health-summary test (pkg/discovery/testdata/healthsummary in the v0.57.5 module that
 * test/peers/build.sh builds from: a kind cluster's nodes, pods and pod logs), byte for byte.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cp, mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeClusterHealth } from '../../src/snapshot/health-file.js';
import { SONOBUOY_VERSION } from '../peers/sonobuoy.js';
import { available } from '../support/required.js';

/**
 * The module's source, as `go mod download` gives it (from the module cache, else the module
 * proxy: building the peer downloads it too, but a cached binary may outlive the cache).
 */
function moduleDir(): string | undefined {
  try {
    const out = execFileSync(
      'go',
      ['mod', 'download', '-json', `github.com/vmware-tanzu/sonobuoy@${SONOBUOY_VERSION}`],
      { encoding: 'utf8', timeout: 5 * 60_000 },
    );
    return (JSON.parse(out) as { Dir?: string }).Dir;
  } catch {
    return undefined;
  }
}

const dir = moduleDir();
const testdata = join(dir ?? '<go mod download failed>', 'pkg/discovery/testdata/healthsummary');
const have = available(existsSync(testdata), `Sonobuoy's module source: ${testdata} is absent`);

describe.skipIf(!have)("clusterhealth.json against Sonobuoy's golden", () => {
  it('writes the same bytes from the same snapshot', async () => {
    const root = join(await mkdtemp(join(tmpdir(), 'fathom-health-')), 'root');
    await cp(testdata, root, { recursive: true });
    // The module cache is read-only, and so is the copy.
    execFileSync('chmod', ['-R', 'u+w', root]);
    expect(await writeClusterHealth(root)).toMatchObject({ written: true });
    const got = await readFile(join(root, 'meta/clusterhealth.json'), 'utf8');
    expect(got).toBe(await readFile(join(testdata, 'summary_test.golden'), 'utf8'));
  });
});
