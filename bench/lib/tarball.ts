/**
 * A large results tarball in Sonobuoy's layout, made the way a run makes one: a generated e2e
 * JUnit file is post-processed by fathom into sonobuoy_results.yaml, and the tree is packed with
 * fathom's tarball writer.
 */
import { createWriteStream } from 'node:fs';
import { mkdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
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

/** A ustar header for a regular file (only what a reader checks). */
function ustarHeader(name: string, size: number): Buffer {
  const h = Buffer.alloc(512);
  h.write(name, 0, 100);
  h.write('0000644\0', 100);
  h.write(`${size.toString(8).padStart(11, '0')}\0`, 124);
  h.write('00000000000\0', 136);
  h.write('        ', 148);
  h.write('0', 156);
  h.write('ustar\u000000', 257);
  let sum = 0;
  for (const b of h) sum += b;
  h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148);
  return h;
}

/**
 * `<dir>/big-files.tar.gz`: one raw plugin `p` whose `files` leaves each name a log of
 * `bytesEach` bytes (a multiple of 1 MiB), streamed through gzip without touching the disk
 * uncompressed: a small tarball whose detailed output is `files * bytesEach` bytes.
 */
export async function bigFilesTarball(
  dir: string,
  files: number,
  bytesEach: number,
): Promise<{ file: string; tarballBytes: number }> {
  const line = Buffer.from('a line of a large log file, as systemd-logs might hold\n');
  const mib = Buffer.alloc(1024 * 1024);
  for (let at = 0; at < mib.length; at += line.length) line.copy(mib, at);
  const yaml = ['name: p', 'status: passed', 'items:'];
  for (let i = 0; i < files; i++)
    yaml.push(`- name: n${i}`, '  status: passed', '  meta:', `    file: n${i}.log`);
  const small = (name: string, text: string): Buffer[] => {
    const body = Buffer.from(text);
    return [ustarHeader(name, body.length), body, Buffer.alloc((512 - (body.length % 512)) % 512)];
  };
  function* blocks(): Generator<Buffer> {
    yield* small('meta/info.json', '{"plugins":["p"]}');
    yield* small('plugins/p/sonobuoy_results.yaml', `${yaml.join('\n')}\n`);
    for (let i = 0; i < files; i++) {
      yield ustarHeader(`plugins/p/n${i}.log`, bytesEach);
      for (let at = 0; at < bytesEach; at += mib.length) yield mib;
    }
    yield Buffer.alloc(1024);
  }
  const file = join(dir, 'big-files.tar.gz');
  await pipeline(Readable.from(blocks()), createGzip({ level: 1 }), createWriteStream(file));
  return { file, tarballBytes: (await stat(file)).size };
}

/**
 * `<dir>/many-nodes.tar.gz`: a DaemonSet plugin's run on `nodes` nodes as fathom packs it, each
 * node with a 20-test JUnit file, two logs and its post-processed results: many small entries.
 */
export async function manyNodesTarball(dir: string, nodes: number): Promise<string> {
  const tree = join(dir, 'tree');
  const plugin = {
    name: 'ds',
    driver: 'DaemonSet',
    resultFormat: 'junit',
    resultFiles: [],
  } as const;
  const log = 'I1204 00:00:00.000000 1 main.go:42] a log line of a node agent\n'.repeat(40);
  for (let i = 0; i < nodes; i++) {
    const node = join(tree, 'plugins', 'ds', 'results', `node-${i}`);
    await mkdir(node, { recursive: true });
    await writeParts(join(node, 'junit_01.xml'), junitParts(0, 20));
    await writeFile(join(node, 'kubelet.log'), log);
    await writeFile(join(node, 'agent.log'), log);
  }
  const item = await postProcessPlugin(tree, plugin);
  await writePluginResults(tree, plugin, item);
  await mkdir(join(tree, 'meta'), { recursive: true });
  await writeFile(join(tree, 'meta', 'info.json'), JSON.stringify({ plugins: ['ds'] }));
  const file = join(dir, 'many-nodes.tar.gz');
  await writeResultsTarball(tree, file);
  return file;
}
