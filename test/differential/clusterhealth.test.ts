/**
 * Differential test: fathom's meta/clusterhealth.json against Sonobuoy's own golden for its
 * health-summary test (pkg/discovery/testdata/healthsummary in the v0.57.5 module that
 * test/peers/build.sh downloads: a kind cluster's nodes, pods and pod logs), byte for byte.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cp, mkdtemp, readFile } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeClusterHealth } from '../../src/snapshot/health-file.js';
import { SONOBUOY_VERSION, sonobuoyBinary } from '../peers/sonobuoy.js';
import { available } from '../support/required.js';

function moduleCache(): string {
  try {
    return execFileSync('go', ['env', 'GOMODCACHE'], { encoding: 'utf8' }).trim();
  } catch {
    return join(homedir(), 'go', 'pkg', 'mod');
  }
}

// Building the peer downloads the module, testdata included.
await sonobuoyBinary();
const testdata = join(
  moduleCache(),
  `github.com/vmware-tanzu/sonobuoy@${SONOBUOY_VERSION}/pkg/discovery/testdata/healthsummary`,
);
const have = available(existsSync(testdata), `Sonobuoy's module source: ${testdata} is absent`);

describe.skipIf(!have)("clusterhealth.json against Sonobuoy's golden", () => {
  it('writes the same bytes from the same snapshot', async () => {
    const root = join(await mkdtemp(join(tmpdir(), 'fathom-health-')), 'root');
    await cp(testdata, root, { recursive: true });
    expect(await writeClusterHealth(root)).toMatchObject({ written: true });
    const got = await readFile(join(root, 'meta/clusterhealth.json'), 'utf8');
    expect(got).toBe(await readFile(join(testdata, 'summary_test.golden'), 'utf8'));
  });
});
