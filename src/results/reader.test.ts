/**
 * The one results reader: a tarball and its extracted directory read the same, a tarball keeps
 * only what it was opened for, and leaf files are checked before they are handed out.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FathomError } from '../core/errors.js';
import { ResultsReader, type Pieces } from './reader.js';
import { writeResultsTarball } from './tarball.js';

const tree = (plugin: string): string =>
  `name: ${plugin}
status: failed
items:
- name: global
  status: failed
  items:
  - name: out.txt
    status: failed
    meta:
      file: results/global/out.txt
  - name: gone.txt
    status: failed
    meta:
      file: results/global/gone.txt
  - name: escape
    status: failed
    meta:
      file: ../../meta/info.json
`;

let work: string;
let dir: string;
let tarball: string;

async function put(rel: string, body: string): Promise<void> {
  await mkdir(dirname(join(dir, rel)), { recursive: true });
  await writeFile(join(dir, rel), body);
}

async function text(pieces: Pieces): Promise<string> {
  let out = '';
  for await (const p of pieces) out += p;
  return out;
}

async function failure(p: Promise<unknown>): Promise<FathomError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof FathomError) return err;
    throw err;
  }
  throw new Error('expected a FathomError');
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'fathom-reader-'));
  dir = join(work, 'run');
  await put('meta/info.json', JSON.stringify({ plugins: ['a', 'b'] }));
  await put('meta/config.json', JSON.stringify({ UUID: 'u-1', Version: 'v0', Namespace: 'ns' }));
  await put(
    'meta/clusterhealth.json',
    JSON.stringify({ node_health: { total_nodes: 3, healthy_nodes: 2 }, api_version: 'v1.30' }),
  );
  for (const p of ['a', 'b']) {
    await put(`plugins/${p}/sonobuoy_results.yaml`, tree(p));
    await put(`plugins/${p}/results/global/out.txt`, `output of ${p}\n`);
  }
  tarball = join(work, 'run.tar.gz');
  await writeResultsTarball(dir, tarball);
});

afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

describe.each([
  ['a directory', () => dir],
  ['a tarball', () => tarball],
])('ResultsReader on %s', (_what, path) => {
  it('lists the plugins, reads their trees, health and run meta', async () => {
    const reader = await ResultsReader.open(path(), { runMeta: true });
    try {
      expect(await reader.plugins()).toEqual(['a', 'b']);
      expect((await reader.pluginTree('b')).name).toBe('b');
      expect(await text(reader.pluginFileText('a'))).toBe(tree('a'));
      const health = await reader.health();
      expect(health?.error).toBeUndefined();
      expect(health?.value?.node_health).toEqual({ total_nodes: 3, healthy_nodes: 2 });
      expect(health?.value?.api_version).toBe('v1.30');
      expect(await reader.runMeta()).toEqual({ uuid: 'u-1', version: 'v0', namespace: 'ns' });
      const all = await reader.runResults();
      expect(all.plugins.map((p) => [p.name, p.item?.status, p.error])).toEqual([
        ['a', 'failed', undefined],
        ['b', 'failed', undefined],
      ]);
    } finally {
      reader.close();
    }
  });

  it('hands out a leaf file only when it exists inside its plugin', async () => {
    const reader = await ResultsReader.open(path());
    try {
      await reader.loadLeafFiles(['a', 'b']);
      expect(await text(await reader.leafFile('b', 'results/global/out.txt'))).toBe(
        'output of b\n',
      );
      const gone = await failure(reader.leafFile('a', 'results/global/gone.txt'));
      expect(gone.message).toBe(
        'failed to find file "plugins/a/results/global/gone.txt" in archive',
      );
      const escape = await failure(reader.leafFile('a', '../../meta/info.json'));
      expect(escape.message).toMatch(/points outside its directory/);
    } finally {
      reader.close();
    }
  });

  it('a missing path is FATHOM_RESULTS_NOT_FOUND', async () => {
    const err = await failure(ResultsReader.open(`${path()}.nope`));
    expect(err.code).toBe('FATHOM_RESULTS_NOT_FOUND');
  });
});

describe('ResultsReader on a tarball keeps only what it was opened for', () => {
  it('one plugin, no run meta, no leaf files until asked', async () => {
    const reader = await ResultsReader.open(tarball, { plugin: 'b' });
    try {
      expect((await reader.pluginTree('b')).name).toBe('b');
      expect((await reader.runResults()).plugins.map((p) => p.name)).toEqual(['b']);
      // Asking for what it was not opened for is a bug in the caller, not bad input.
      await expect(reader.pluginTree('a')).rejects.toThrow(
        /"plugins\/a\/sonobuoy_results.yaml" was not kept/,
      );
      expect(await reader.runMeta()).toEqual({});
      await expect(text(await reader.leafFile('b', 'results/global/out.txt'))).rejects.toThrow(
        /was not kept/,
      );
      await reader.loadLeafFiles(['b']);
      expect(await text(await reader.leafFile('b', 'results/global/out.txt'))).toBe(
        'output of b\n',
      );
    } finally {
      reader.close();
    }
  });

  it('a health file that is not an object is an error kept for when it is shown', async () => {
    const other = join(work, 'bad-health');
    await mkdir(join(other, 'meta'), { recursive: true });
    await writeFile(join(other, 'meta', 'clusterhealth.json'), '[1]');
    const reader = await ResultsReader.open(other);
    const health = await reader.health();
    expect(health?.raw).toBe('[1]');
    expect(health?.error?.message).toBe('meta/clusterhealth.json: not a JSON object');
    expect(await reader.plugins()).toEqual([]);
    reader.close();
  });
});
