import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Item } from './item.js';
import { parseItemYaml } from './manual.js';
import { postProcessPlugin, type ProcessedPlugin, writePluginResults } from './process.js';
import { EXIT_CODE_FILE, writeExitCode } from './raw.js';

let root: string;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'fathom-process-'));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

async function put(rel: string, content: string): Promise<void> {
  const p = join(root, rel);
  await mkdir(dirname(p), { recursive: true });
  await writeFile(p, content);
}

const plugin = (over: Partial<ProcessedPlugin>): ProcessedPlugin => ({
  name: 'p',
  driver: 'Job',
  resultFormat: 'junit',
  resultFiles: [],
  ...over,
});

const names = (item: Item): string[] => (item.items ?? []).map((i) => i.name);
const junit = (test: string, failed = false): string =>
  `<testsuite name="s"><testcase name="${test}">${failed ? '<failure/>' : ''}</testcase></testsuite>`;

describe('postProcessPlugin', () => {
  it('walks results recursively in sorted order, picking .xml for junit', async () => {
    await put('plugins/p/results/global/d.xml', junit('d'));
    await put('plugins/p/results/global/b/c.xml', junit('c', true));
    await put('plugins/p/results/global/a.xml', junit('a'));
    await put('plugins/p/results/global/notes.txt', 'x');
    const item = await postProcessPlugin(root, plugin({}));
    expect(names(item)).toEqual(['a.xml', 'c.xml', 'd.xml']);
    expect(item.items![1]!.meta).toEqual({ file: 'results/global/b/c.xml', type: 'file' });
    expect(item.status).toBe('failed');
  });

  it('matches result-files by base name anywhere under results', async () => {
    await put('plugins/p/results/global/deep/report.xml', junit('r'));
    await put('plugins/p/results/global/other.xml', junit('o'));
    expect(names(await postProcessPlugin(root, plugin({ resultFiles: ['report.xml'] })))).toEqual([
      'report.xml',
    ]);
  });

  it('never follows symlinks', async () => {
    await put('outside/secret.xml', junit('secret'));
    await mkdir(join(root, 'plugins/p/results/global'), { recursive: true });
    await symlink(
      join(root, 'outside/secret.xml'),
      join(root, 'plugins/p/results/global/link.xml'),
    );
    await symlink(join(root, 'outside'), join(root, 'plugins/p/results/global/dirlink'));
    const item = await postProcessPlugin(root, plugin({}));
    expect(item).toEqual({ name: 'p', status: 'unknown', meta: { type: 'summary' } });
  });

  it('groups DaemonSet results by node dir, then appends error nodes', async () => {
    await put('plugins/p/results/n2/out.xml', junit('t'));
    await put('plugins/p/results/n1/out.xml', junit('t'));
    await put('plugins/p/results/stray.xml', junit('ignored'));
    await put(
      'plugins/p/errors/n3/error.json',
      '{"error":"timeout waiting for results","node":"n3"}',
    );
    const item = await postProcessPlugin(root, plugin({ driver: 'DaemonSet' }));
    expect(names(item)).toEqual(['n1', 'n2', 'n3']);
    expect(item.items!.map((n) => [n.status, n.meta])).toEqual([
      ['passed', { type: 'node' }],
      ['passed', { type: 'node' }],
      ['failed', { type: 'node' }],
    ]);
    expect(item.items![2]!.items).toEqual([
      {
        name: 'timeout waiting for results',
        status: 'timeout',
        meta: { file: 'errors/n3/error.json' },
        details: { error: 'timeout waiting for results', node: 'n3' },
      },
    ]);
    expect(item.status).toBe('failed');
  });

  it('handles odd error.json files without throwing', async () => {
    await put('plugins/p/errors/global/error.json', '{"data": 5}');
    await put('plugins/p/errors/other/error.json', 'not json');
    await put('plugins/p/errors/other/errors.json', '{"error":"not the right name"}');
    const item = await postProcessPlugin(root, plugin({}));
    expect(item.items).toEqual([
      {
        name: 'error.json',
        status: 'failed',
        meta: { file: 'errors/global/error.json' },
        details: { data: '5' },
      },
      {
        name: 'error.json',
        status: 'failed',
        meta: {
          file: 'errors/other/error.json',
          error: expect.stringMatching(/^decoding errors\/other\/error.json: /) as string,
        },
      },
    ]);
  });

  it('treats gojson files as .json and an unknown format as raw', async () => {
    await put('plugins/p/results/global/t.json', '{"Action":"fail","Test":"T"}');
    await put('plugins/p/results/global/t.log', 'log');
    expect(names(await postProcessPlugin(root, plugin({ resultFormat: 'gojson' })))).toEqual([
      't.json',
    ]);
    const raw = await postProcessPlugin(root, plugin({ resultFormat: 'something-new' }));
    expect(raw.items).toEqual([
      { name: 't.json', status: 'passed', meta: { file: 'results/global/t.json' } },
      { name: 't.log', status: 'passed', meta: { file: 'results/global/t.log' } },
    ]);
  });

  it('lets a raw plugin use its exit code as the verdict through fathom-exit-code', async () => {
    await put('plugins/p/results/global/out.txt', 'x');
    await writeExitCode(join(root, 'plugins/p/results/global'), 3);
    const failed = await postProcessPlugin(
      root,
      plugin({ resultFormat: 'raw', resultFiles: ['out.txt'] }),
    );
    expect(failed.status).toBe('failed');
    expect(failed.items![0]).toEqual({
      name: EXIT_CODE_FILE,
      status: 'failed',
      meta: { file: `results/global/${EXIT_CODE_FILE}`, 'exit-code': '3' },
    });
    await writeExitCode(join(root, 'plugins/p/results/global'), 0);
    expect((await postProcessPlugin(root, plugin({ resultFormat: 'raw' }))).status).toBe('passed');
    await put(`plugins/p/results/global/${EXIT_CODE_FILE}`, 'garbage');
    const bad = await postProcessPlugin(root, plugin({ resultFormat: 'raw' }));
    expect(bad.status).toBe('unknown');
    expect(bad.items![0]!.meta!.error).toMatch(/not an exit code/);
  });

  it('refuses plugin names that are paths', async () => {
    await expect(postProcessPlugin(root, plugin({ name: '../x' }))).rejects.toMatchObject({
      code: 'FATHOM_RESULTS_INVALID',
    });
  });
});

describe('writePluginResults', () => {
  it('writes plugins/<name>/sonobuoy_results.yaml that reads back', async () => {
    await put('plugins/p/results/global/a.xml', junit('a', true));
    const item = await postProcessPlugin(root, plugin({}));
    const file = await writePluginResults(root, plugin({}), item);
    expect(file).toBe(join(root, 'plugins/p/sonobuoy_results.yaml'));
    const text = await readFile(file, 'utf8');
    expect(
      text.startsWith('name: p\nstatus: failed\nmeta:\n  type: summary\nitems:\n- name: a.xml\n'),
    ).toBe(true);
    expect(parseItemYaml(text)).toEqual(item);
    expect(existsSync(`${file}.partial-${process.pid}`)).toBe(false);
  });
});
