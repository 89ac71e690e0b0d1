/**
 * A large results tarball in Sonobuoy's layout, made the way a run makes one: a generated e2e
 * JUnit file is post-processed by fathom into sonobuoy_results.yaml, and the tree is packed with
 * fathom's tarball writer.
 */
import { mkdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { postProcessPlugin, writePluginResults } from '../../src/results/process.js';
import { writeResultsTarball } from '../../src/results/tarball.js';
import { junitParts, writeParts } from './gen.js';

export interface GeneratedTarball {
  file: string;
  tarballBytes: number;
  junitBytes: number;
  yamlBytes: number;
  tests: number;
}

const PLUGIN = 'e2e';
const UUID = '00000000-0000-4000-8000-00000000be7c';

/** Writes `<dir>/tree/...` and `<dir>/large.tar.gz` with one Job plugin `e2e` of `tests` tests. */
export async function largeSonobuoyTarball(dir: string, tests: number): Promise<GeneratedTarball> {
  const tree = join(dir, 'tree');
  const results = join(tree, 'plugins', PLUGIN, 'results', 'global');
  await mkdir(results, { recursive: true });
  await mkdir(join(tree, 'meta'), { recursive: true });
  // No padding: every byte of this JUnit file is a test case.
  const junitBytes = await writeParts(join(results, 'junit_01.xml'), junitParts(0, tests));
  const plugin = { name: PLUGIN, driver: 'Job', resultFormat: 'junit', resultFiles: [] } as const;
  const item = await postProcessPlugin(tree, plugin);
  const yaml = await writePluginResults(tree, plugin, item);
  const { size: yamlBytes } = await stat(yaml);
  await writeFile(join(tree, 'meta', 'info.json'), JSON.stringify({ plugins: [PLUGIN] }));
  await writeFile(
    join(tree, 'meta', 'config.json'),
    JSON.stringify({
      Description: 'fathom bench',
      UUID,
      Version: 'v0.57.5',
      ResultsDir: '/tmp/sonobuoy',
      Namespace: 'sonobuoy',
    }),
  );
  await writeFile(
    join(tree, 'plugins', PLUGIN, 'definition.json'),
    JSON.stringify({
      Definition: {
        'sonobuoy-config': { driver: 'Job', 'plugin-name': PLUGIN, 'result-format': 'junit' },
        spec: {
          name: PLUGIN,
          image: 'registry.k8s.io/conformance:v1.33.0',
          command: ['/run_e2e.sh'],
        },
      },
      SessionID: 'be7c',
      Namespace: 'sonobuoy',
    }),
  );
  await writeFile(
    join(tree, 'serverversion.json'),
    JSON.stringify({ major: '1', minor: '33', gitVersion: 'v1.33.0' }),
  );
  const file = join(dir, `202601010000_sonobuoy_${UUID}.tar.gz`);
  const { size } = await writeResultsTarball(tree, file);
  return { file, tarballBytes: size, junitBytes, yamlBytes, tests };
}
