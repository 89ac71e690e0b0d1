import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { Item } from './item.js';
import { parseItemYaml } from './manual.js';
import { itemToYaml, writeItemYaml, yamlString } from './yamlout.js';

describe('itemToYaml', () => {
  it('writes keys in Sonobuoy order with unindented sequences and sorted maps', () => {
    const item: Item = {
      name: 'p',
      status: 'passed',
      meta: { type: 'summary' },
      items: [
        {
          name: 'f',
          status: 'passed',
          meta: { type: 'file', file: 'results/global/f' },
          details: { z: [1, { b: 2, a: [] }, [3, 4]], a: {} },
        },
      ],
    };
    expect(itemToYaml(item)).toBe(`name: p
status: passed
meta:
  type: summary
items:
- name: f
  status: passed
  meta:
    file: results/global/f
    type: file
  details:
    a: {}
    z:
    - 1
    - a: []
      b: 2
    - - 3
      - 4
`);
  });

  it.each([
    'plain text',
    '',
    ' leading space',
    'trailing space ',
    '[sig-storage] In-tree [Driver: local]',
    'key: value',
    'has # hash',
    '#comment',
    '- dash',
    '---',
    '...',
    'yes',
    'No',
    'on',
    '~',
    'null',
    '1.5',
    '007',
    '2019-11-13T09:12:57Z',
    '.inf',
    'multi\nline\ttab',
    'quote " and \\ backslash',
    "single ' quote",
    'control \u0001\u007f\u0085\u2028\ufeff',
    'unicode é 😀 中文',
    '&anchor',
    '*alias',
    '!tag',
    '%directive',
    '@at',
    '`tick',
    '{flow}',
    'colon:at-end:',
    '<<',
  ])('round-trips %j through YAML 1.2 and keeps it a string', (s) => {
    expect(parse(`v: ${yamlString(s)}\n`)).toEqual({ v: s });
    expect(parse(`v: ${yamlString(s)}\n`, { version: '1.1' })).toEqual({ v: s });
  });

  it('round-trips a tree through writeItemYaml and the checked reader', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'fathom-yaml-'));
    try {
      const items: Item[] = Array.from({ length: 5000 }, (_, i) => ({
        name: `[sig-x] test ${i}: "quoted"`,
        status: i % 7 === 0 ? 'failed' : 'passed',
        details: i % 7 === 0 ? { failure: `line 1\nline 2 ${i}` } : undefined,
      })).map((i) => (i.details ? i : { name: i.name, status: i.status }));
      const tree: Item = { name: 'e2e', status: 'failed', meta: { type: 'summary' }, items };
      const file = join(dir, 'sonobuoy_results.yaml');
      await writeItemYaml(tree, file);
      expect(parseItemYaml(await readFile(file, 'utf8'))).toEqual(tree);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
