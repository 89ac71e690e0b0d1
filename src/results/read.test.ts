import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isFathomError } from '../core/errors.js';
import type { Item } from './item.js';
import {
  detailedLeaves,
  goJson,
  readableText,
  readPluginResults,
  readRunInfo,
  readRunResults,
  reportData,
  resolveLeafFile,
  selectNode,
} from './read.js';
import { openResults, type OpenedResults } from './tarball.js';
import { available } from '../../test/support/required.js';

const shared = new URL('../../../shared/conformance/sonobuoy/', import.meta.url).pathname;
const present = available(existsSync(shared), `Sonobuoy results tarballs: ${shared} is absent`);

const tree: Item = {
  name: 'e2e',
  status: 'failed',
  meta: { type: 'summary' },
  items: [
    {
      name: 'junit.xml',
      status: 'failed',
      meta: { file: 'results/global/junit.xml', type: 'file' },
      items: [
        {
          name: 'suite',
          status: 'failed',
          items: [
            { name: '[It] a <b> & c', status: 'failed', details: { z: 1, a: { y: 2, b: [3] } } },
            { name: 'two', status: 'timeout' },
            { name: 'three', status: 'passed' },
            { name: 'four', status: 'skipped' },
            { name: 'five', status: 'complete' },
            { name: 'six', status: 'complete' },
            { name: 'seven', status: 'custom' },
          ],
        },
      ],
    },
    { name: 'raw.txt', status: 'passed', meta: { file: 'results\\global\\raw.txt' } },
  ],
};

describe('reportData', () => {
  it('counts leaves, folds timeout into failed, sorts custom statuses, strips [It]', () => {
    expect(reportData(tree)).toEqual({
      name: 'e2e',
      status: 'failed',
      total: 8,
      passed: 2,
      failed: 2,
      skipped: 1,
      custom: [
        { status: 'complete', count: 2 },
        { status: 'custom', count: 1 },
      ],
      failedTests: ['a <b> & c', 'two'],
    });
  });
});

describe('detailedLeaves', () => {
  it('gives the ancestry, Go-style JSON for plain leaves and the file for file leaves', () => {
    const leaves = detailedLeaves(tree);
    expect(leaves).toHaveLength(8);
    expect(leaves[0]!.path).toEqual(['e2e', 'junit.xml', 'suite']);
    expect(leaves[0]!.json).toBe(
      '{"name":"[It] a \\u003cb\\u003e \\u0026 c","status":"failed","meta":{"path":"e2e|junit.xml|suite"},"details":{"a":{"b":[3],"y":2},"z":1}}',
    );
    expect(leaves[7]).toMatchObject({ path: ['e2e'], file: 'results/global/raw.txt' });
    expect(leaves[7]!.json).toBeUndefined();
  });

  it('does not change the tree it reads', () => {
    detailedLeaves(tree);
    expect(tree.items![0]!.items![0]!.items![0]!.meta).toBeUndefined();
  });
});

describe('selectNode and resolveLeafFile', () => {
  it('starts at the first sub-tree of that name, or refuses an unknown one', () => {
    expect(selectNode(tree, 'suite').items).toHaveLength(7);
    expect(selectNode(tree, 'e2e')).toBe(tree);
    expect(selectNode(tree)).toBe(tree);
    expect(() => selectNode(tree, 'nope')).toThrow('node named "nope" not found');
  });

  it('keeps leaf files inside the plugin directory', () => {
    expect(resolveLeafFile('/r', 'p', 'results/global/x')).toBe('/r/plugins/p/results/global/x');
    expect(() => resolveLeafFile('/r', 'p', '../../../etc/passwd')).toThrow(/points outside/);
    expect(() => resolveLeafFile('/r', 'p', '/etc/passwd')).toThrow(/points outside/);
  });

  it('readableText unescapes \\n and \\t', () => {
    expect(readableText('a: "x\\ny\\tz"')).toBe('a: "x\ny\tz"');
  });
  it('goJson keeps Item field order', () => {
    expect(goJson({ status: 's', name: 'n', items: [{ name: 'c', status: 'passed' }] })).toBe(
      '{"name":"n","status":"s","items":[{"name":"c","status":"passed"}]}',
    );
  });
});

describe('reading run directories', () => {
  let root: string;
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'fathom-read-'));
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('reports a missing results file per plugin and keeps going', async () => {
    await mkdir(join(root, 'meta'), { recursive: true });
    await mkdir(join(root, 'plugins/good'), { recursive: true });
    await writeFile(join(root, 'meta/info.json'), '{"plugins":["missing","good","bad"]}');
    await writeFile(
      join(root, 'plugins/good/sonobuoy_results.yaml'),
      'name: good\nstatus: passed\n',
    );
    await mkdir(join(root, 'plugins/bad'), { recursive: true });
    await writeFile(join(root, 'plugins/bad/sonobuoy_results.yaml'), 'name: [1]\n');
    const run = await readRunResults(root);
    expect(run.plugins.map((p) => [p.name, p.item?.status, p.error?.code])).toEqual([
      ['missing', undefined, 'FATHOM_RESULTS_INVALID'],
      ['good', 'passed', undefined],
      ['bad', undefined, 'FATHOM_RESULTS_INVALID'],
    ]);
    expect(run.plugins[0]!.error!.message).toBe(
      'failed to find file "plugins/missing/sonobuoy_results.yaml" in archive',
    );
    expect(run.plugins[2]!.error!.message).toMatch(
      /failed to decode yaml results for plugin bad: root.name: expected a string/,
    );
  });

  it('refuses a run with no plugin list and no --plugin', async () => {
    const empty = await mkdtemp(join(tmpdir(), 'fathom-read-empty-'));
    await expect(readRunResults(empty)).rejects.toThrow(
      'no plugins specified by either the --plugin flag or tarball metadata',
    );
    await rm(empty, { recursive: true });
  });

  it('refuses a malformed info.json with a clear error', async () => {
    await writeFile(join(root, 'meta/info.json'), '{"plugins":"e2e"}');
    const err = await readRunInfo(root).catch((e: unknown) => e);
    expect(isFathomError(err, 'FATHOM_RESULTS_INVALID')).toBe(true);
  });

  it('refuses plugin names that are paths', async () => {
    await expect(readPluginResults(root, '../x')).rejects.toThrow(/not a safe directory name/);
  });
});

describe.skipIf(!present)(
  'Sonobuoy real tarballs (cmd/sonobuoy/app results_test.go expectations)',
  () => {
    let opened: OpenedResults;
    beforeAll(async () => {
      opened = await openResults(
        join(shared, 'cmd/sonobuoy/app/testdata/testResultsOutput.tar.gz'),
      );
    });
    afterAll(async () => {
      await opened.cleanup();
    });

    it('report for e2e', async () => {
      const item = await readPluginResults(opened.root, 'e2e');
      expect(reportData(item)).toEqual({
        name: 'e2e',
        status: 'failed',
        total: 3,
        passed: 1,
        failed: 1,
        skipped: 1,
        custom: [],
        failedTests: [
          '[sig-storage] CSI Volumes CSI Topology test using GCE PD driver [Serial] should fail to schedule a pod with a zone missing from AllowedTopologies; PD is provisioned with immediate volume binding',
        ],
      });
    });

    it('report for custom-status', async () => {
      const r = reportData(await readPluginResults(opened.root, 'custom-status'));
      expect(r).toMatchObject({
        status: 'custom-overall-status',
        total: 7,
        passed: 1,
        failed: 1,
        skipped: 1,
      });
      expect(r.custom).toEqual([
        { status: 'complete', count: 2 },
        { status: 'custom', count: 2 },
      ]);
    });

    it('report for tarresultsds', async () => {
      expect(reportData(await readPluginResults(opened.root, 'tarresultsds'))).toMatchObject({
        status: 'passed',
        total: 2,
        passed: 2,
        failed: 0,
        skipped: 0,
        custom: [],
      });
    });

    it('detailed for e2e prints Go JSON lines', async () => {
      const lines = detailedLeaves(await readPluginResults(opened.root, 'e2e')).map((l) => l.json);
      expect(lines).toEqual([
        '{"name":"[sig-storage] CSI Volumes CSI Topology test using GCE PD driver [Serial] should fail to schedule a pod with a zone missing from AllowedTopologies; PD is provisioned with immediate volume binding","status":"failed","meta":{"path":"e2e|junit_01.xml"}}',
        '{"name":"[sig-storage] Subpath Atomic writer volumes should support subpaths with projected pod [LinuxOnly] [Conformance]","status":"passed","meta":{"path":"e2e|junit_01.xml"}}',
        '{"name":"[sig-storage] In-tree Volumes [Driver: hostPath] [Testpattern: Inline-volume (default fs)] subPath should fail if non-existent subpath is outside the volume [Slow]","status":"skipped","meta":{"path":"e2e|junit_01.xml"}}',
      ]);
    });

    it('detailed for arbitrary-details keeps nested details sorted', async () => {
      const lines = detailedLeaves(await readPluginResults(opened.root, 'arbitrary-details')).map(
        (l) => l.json,
      );
      expect(lines).toEqual([
        '{"name":"Item with arbitrary details","status":"complete","meta":{"path":"arbitrary-details|output-file"},"details":{"nested-details":{"key1":"value1","key2":"value2"},"string-array":["string 1","string 2","string 3"]}}',
        '{"name":"Another item with arbitrary details","status":"complete","meta":{"path":"arbitrary-details|output-file"},"details":{"integer-array":[1,2,3],"nested-details":{"key1":"value1","key2":"value2","key3":{"nested-key1":"nested-value1","nested-key2":"nested-value2","nested-key3":{"another-nested-key":"another-nested-value"}}}}}',
      ]);
    });

    it('detailed for tarresultsds names files, and -n out1 starts at the leaf', async () => {
      const item = await readPluginResults(opened.root, 'tarresultsds');
      const leaves = detailedLeaves(item);
      const shown = await Promise.all(
        leaves.map(
          async (l) =>
            `${[...l.path, l.item.name].join('|')} ${await readFile(resolveLeafFile(opened.root, 'tarresultsds', l.file!), 'utf8')}`,
        ),
      );
      expect(shown.join('')).toBe(
        'tarresultsds|kind-control-plane|out0 hello world\ntarresultsds|kind-control-plane|out1 hello world pt2\n',
      );
      const node = detailedLeaves(selectNode(item, 'out1'));
      expect(node.map((l) => [...l.path, l.item.name].join('|'))).toEqual(['out1']);
    });

    it('reads the plugin list of a real run in order', async () => {
      const run = await openResults(
        join(shared, 'test/integration/testdata/results-4-e2e-failures.tar.gz'),
      );
      try {
        const results = await readRunResults(run.root);
        expect(results.plugins.map((p) => p.name)).toEqual(['e2e', 'systemd-logs']);
        const e2e = reportData(results.plugins[0]!.item!);
        expect(e2e.failed).toBe(4);
        expect(e2e.failedTests).toHaveLength(4);
        expect(results.plugins[1]!.item!.status).toBe('passed');
      } finally {
        await run.cleanup();
      }
    });

    it('says which file is missing in results-missing-e2e', async () => {
      const run = await openResults(
        join(shared, 'test/integration/testdata/results-missing-e2e.tar.gz'),
      );
      try {
        await expect(readPluginResults(run.root, 'e2e')).rejects.toThrow(
          'failed to find file "plugins/e2e/sonobuoy_results.yaml" in archive',
        );
      } finally {
        await run.cleanup();
      }
    });
  },
);
