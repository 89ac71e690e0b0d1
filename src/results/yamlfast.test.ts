/**
 * The fast item-tree reader must give exactly the tree of the generic path (yaml package, then
 * toItem) or step aside. Checked on Sonobuoy's own files, on fathom's writer, on yaml.v2-style
 * folding, on hand-picked edge cases and on seeded random trees with hostile strings.
 */
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import type { Item } from './item.js';
import { parseItemYaml, parseItemYamlGeneric, toItem } from './manual.js';
import { parseItemYamlFast } from './yamlfast.js';
import { itemToYaml } from './yamlout.js';
import { available } from '../../test/support/required.js';

const shared = new URL('../../../shared/conformance/sonobuoy/', import.meta.url).pathname;
const present = available(existsSync(shared), `Sonobuoy's YAML files: ${shared} is absent`);

/** What the generic path makes of `text`: the tree, or its error message. */
function generic(text: string): Item | string {
  try {
    return parseItemYamlGeneric(text);
  } catch (err) {
    return `error: ${(err as Error).message}`;
  }
}

/** Fast and generic agree (key order included), or the fast reader stepped aside. */
function expectAgrees(text: string): Item | undefined {
  const fast = parseItemYamlFast(text);
  if (fast !== undefined) {
    const slow = generic(text);
    expect(fast, text).toStrictEqual(slow);
    expect(JSON.stringify(fast)).toBe(JSON.stringify(slow));
  }
  return fast;
}

async function yamlFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile() && /\.ya?ml$/.test(e.name)) out.push(join(e.parentPath, e.name));
  }
  return out.sort();
}

describe.skipIf(!present)("Sonobuoy's YAML files", () => {
  it('reads every one as the generic parser does, or steps aside', async () => {
    const files = await yamlFiles(shared);
    expect(files.length).toBeGreaterThan(50);
    let recognised = 0;
    for (const file of files) {
      if (expectAgrees(await readFile(file, 'utf8'))) recognised++;
    }
    // The results and manual files (not plugin definitions) are in the subset.
    expect(recognised).toBeGreaterThanOrEqual(29);
  });

  it('recognises the manual results files, arbitrary details included', async () => {
    const dir = join(shared, 'pkg/client/results/testdata/mockResults/manualProcessing');
    for (const name of ['manual-results.yaml', 'manual-results-arbitrary-details.yaml']) {
      expect(expectAgrees(await readFile(join(dir, name), 'utf8')), name).toBeDefined();
    }
  });

  it('recognises every post-processing golden written by fathom', async () => {
    const root = join(shared, 'pkg/client/results/testdata/mockResults/plugins');
    for (const key of await readdir(root)) {
      const golden = join(root, key, `${key}.golden.json`);
      if (!existsSync(golden)) continue;
      const tree = toItem(JSON.parse(await readFile(golden, 'utf8')));
      const fast = expectAgrees(itemToYaml(tree));
      expect(fast, key).toStrictEqual(tree);
    }
  });
});

describe('the layout yaml.v2 writes', () => {
  it('unfolds single-quoted names wrapped over lines', () => {
    const text = `name: e2e
status: failed
items:
- name: '[sig-api-machinery] CustomResourceDefinition resources [Privileged:ClusterAdmin]
    should include custom resource definition resources in discovery documents

    [Conformance] it''s'
  status: skipped
`;
    expect(expectAgrees(text)!.items![0]!.name).toBe(
      "[sig-api-machinery] CustomResourceDefinition resources [Privileged:ClusterAdmin] should include custom resource definition resources in discovery documents\n[Conformance] it's",
    );
  });

  it('unfolds double-quoted text with escaped spaces at line starts and escaped breaks', () => {
    const text = `name: x
status: failed
details:
  system-out: "[BeforeEach] [sig-scheduling] SchedulerPreemption [Serial]\\n
    \\ /workspace/src/framework.go:185\\nSTEP:
    Creating a kubernetes client\\
    \\ joined\\t\\x41\\u00e9\\U0001F600"
`;
    expect(expectAgrees(text)!.details!['system-out']).toBe(
      '[BeforeEach] [sig-scheduling] SchedulerPreemption [Serial]\n  /workspace/src/framework.go:185\nSTEP: Creating a kubernetes client joined\tAé😀',
    );
  });

  it.each([
    ['|-', 'a\n  b\n\nc'],
    ['|', 'a\n  b\n\nc\n'],
    ['|+', 'a\n  b\n\nc\n\n\n'],
  ])('reads literal blocks with chomping %s', (header, want) => {
    const text = `name: x
status: failed
details:
  failure: ${header}
    a
      b

    c


  other: 1
`;
    const fast = expectAgrees(text);
    expect(fast?.details?.failure).toBe(want);
  });

  it('reads explicit indentation, counted from the parent', () => {
    const text = `name: x
status: y
details:
  a: |2-
     one
    two
  list:
  - |1
     three
items:
- name: |4+
       four
  status: z
`;
    const fast = expectAgrees(text)!;
    expect(fast.details).toEqual({ a: ' one\ntwo', list: ['  three\n'] });
    expect(fast.items![0]!.name).toBe(' four\n');
  });

  it('reads plain scalars folded over lines, numbers and nulls as the core schema says', () => {
    const text = `name: plain text that goes on
  over a second line

  and a third
status: 12
meta:
  a: 0x1F
  b: 1.50
  c: ~
  d: 'null'
  e: TRUE
  f:
details:
  int: -7
  float: 1e3
  inf: -.inf
  nan: .NaN
  oct: 0o17
  bool: false
  nothing: null
  empty: []
  map: {}
  list:
  - 1
  - two
  - k: v
    n: 2
  indented:
    - x
    - y
`;
    const fast = expectAgrees(text)!;
    expect(fast.name).toBe('plain text that goes on over a second line\nand a third');
    expect(fast.meta).toEqual({ a: '31', b: '1.5', c: '', d: 'null', e: 'true', f: '' });
    expect(fast.details).toMatchObject({
      oct: 15,
      inf: -Infinity,
      list: [1, 'two', { k: 'v', n: 2 }],
    });
  });

  it('keeps what toItem does with empty and null entries, and ignores unknown keys', () => {
    const text = `name: p
status: passed
file: results/global/output
extra:
  nested: [1]
meta: {}
details: null
items:
- null
- {}
- name: leaf
  status: passed
  items: []
`;
    // The flow list under `extra` is outside the subset: the generic parser takes the file.
    expect(parseItemYamlFast(text)).toBeUndefined();
    const simple = text.replace('  nested: [1]\n', '  nested: 1\n');
    expect(expectAgrees(simple)).toStrictEqual({
      name: 'p',
      status: 'passed',
      items: [
        { name: '', status: '' },
        { name: '', status: '' },
        { name: 'leaf', status: 'passed' },
      ],
    });
  });
});

describe('stepping aside', () => {
  it.each([
    ['a comment', 'name: a # note\nstatus: b\n'],
    ['a comment line', '# top\nname: a\n'],
    ['an anchor', 'name: &x a\nstatus: *x\n'],
    ['a tag', 'name: !!str 5\n'],
    ['a flow map', 'name: a\nmeta: {type: node}\n'],
    ['a folded block', 'name: >\n  a\n  b\n'],
    ['a comment after a block header', 'name: | # note\n  a\n'],
    ['a tab', 'name: a\tb\n'],
    ['CRLF', 'name: a\r\nstatus: b\r\n'],
    ['a byte-order mark', '\ufeffname: a\n'],
    ['a document marker', '---\nname: a\n'],
    ['two documents', 'name: a\n---\nname: b\n'],
    ['a duplicate key', 'name: a\nname: b\n'],
    ['a duplicate details key', 'name: a\ndetails:\n  k: 1\n  k: 2\n'],
    ['a merge key', 'name: a\ndetails:\n  <<: 1\n'],
    ['a __proto__ key', 'name: a\ndetails:\n  __proto__: 1\n'],
    ['an unknown escape', 'name: "a\\qb"\n'],
    ['a wrong type', 'name: a\nitems: 5\n'],
    ['a list for meta', 'name: a\nmeta:\n- x\n'],
    ['a map for a name', 'name:\n  x: 1\n'],
    ['a nested map in a plain value', 'name: a: b\n'],
    ['an unterminated quote', "name: 'abc\n"],
    ['an under-indented continuation', "items:\n- name: 'a\n  b'\n"],
    ['text after a quote', 'name: "a" b\n'],
    ['an empty document', ''],
    ['a scalar document', 'just text\n'],
    ['a list document', '- name: a\n'],
    ['a stray line', 'name: a\n  status: b\n'],
    ['a non-string key', 'name: a\ndetails:\n  1: x\n'],
  ])('for %s', (_what, text) => {
    expect(parseItemYamlFast(text)).toBeUndefined();
    // And parseItemYaml still reads it (or fails) as the generic parser does.
    const slow = generic(text);
    if (typeof slow === 'string') expect(() => parseItemYaml(text)).toThrow(slow.slice(7));
    else expect(parseItemYaml(text)).toStrictEqual(slow);
  });

  it('at the item and depth limits, so the generic path reports them', () => {
    const many = `name: r\nitems:\n${'- name: x\n'.repeat(20)}`;
    expect(parseItemYamlFast(many, { maxItems: 10 })).toBeUndefined();
    expect(() => parseItemYaml(many, { maxItems: 10 })).toThrow(/more than 10 items/);
    expect(parseItemYamlFast(many, { maxItems: 21 })).toBeDefined();
    let deep = 'name: r\n';
    for (let d = 0; d < 140; d++)
      deep += `${'  '.repeat(d)}items:\n${'  '.repeat(d)}- name: n${d}\n`;
    expect(parseItemYamlFast(deep)).toBeUndefined();
    expect(() => parseItemYaml(deep)).toThrow(/nested deeper than 128/);
    const details = `name: r\ndetails:\n${Array.from({ length: 130 }, (_, d) => `${'  '.repeat(d + 1)}k:`).join('\n')} 1\n`;
    expect(parseItemYamlFast(details)).toBeUndefined();
    expect(() => parseItemYaml(details)).toThrow(/nested deeper than 128/);
  });
});

/** A small seeded PRNG (mulberry32), so failures reproduce. */
function rng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Strings that test every rule of the subset: indicators, quotes, breaks, numbers, words YAML reads as null or true. */
const tame = [
  'a',
  'word',
  ' ',
  '  ',
  ':',
  ': ',
  ' #',
  '#',
  '-',
  '- ',
  '?',
  "'",
  "''",
  '"',
  '\\',
  '\n',
  '\n\n',
  '\n  ',
  ' \n',
  '[',
  ']',
  '{',
  '}',
  ',',
  '&',
  '*',
  '!',
  '|',
  '>',
  '%',
  '@',
  '`',
  'null',
  'true',
  'No',
  '~',
  '0',
  '12',
  '-3',
  '1.5',
  '0x1F',
  '0o7',
  '.inf',
  '1e3',
  'é',
  '😀',
  '\u00a0',
  '---',
  '...',
  'x'.repeat(90),
];
/** Characters outside the subset on top: the fast reader must step aside for them. */
const hostile = [...tame, '\t', '\r\n', '\u2028', '\x7f', '\x01', '\u0085', '\ufeff'];

function randomString(next: () => number, pieces: readonly string[]): string {
  let s = '';
  const n = Math.floor(next() * 6);
  for (let i = 0; i < n; i++) s += pieces[Math.floor(next() * pieces.length)]!;
  return s;
}

function randomValue(next: () => number, p: readonly string[], depth: number): unknown {
  const r = next();
  if (depth > 2 || r < 0.5) {
    const k = next();
    if (k < 0.7) return randomString(next, p);
    if (k < 0.8) return Math.floor(next() * 2000) - 1000;
    if (k < 0.85) return next() * 10;
    if (k < 0.9) return next() < 0.5;
    return null;
  }
  if (r < 0.75)
    return Array.from({ length: Math.floor(next() * 4) }, () => randomValue(next, p, depth + 1));
  const out: Record<string, unknown> = {};
  for (let i = Math.floor(next() * 4); i > 0; i--)
    out[randomString(next, p) || 'k'] = randomValue(next, p, depth + 1);
  return out;
}

function randomItem(next: () => number, p: readonly string[], depth: number): Item {
  const item: Item = { name: randomString(next, p), status: randomString(next, p) };
  if (next() < 0.3) item.meta = { file: randomString(next, p), type: randomString(next, p) };
  if (next() < 0.3) item.details = { [randomString(next, p)]: randomValue(next, p, 1) };
  if (depth < 3 && next() < 0.6) {
    item.items = Array.from({ length: 1 + Math.floor(next() * 3) }, () =>
      randomItem(next, p, depth + 1),
    );
  }
  return item;
}

describe('seeded random trees', () => {
  it('fathom’s writer: always recognised, always the same tree', () => {
    const next = rng(1);
    for (let i = 0; i < 300; i++) {
      const text = itemToYaml(randomItem(next, tame, 0));
      const fast = parseItemYamlFast(text);
      expect(fast, text).toBeDefined();
      expect(fast).toStrictEqual(generic(text));
    }
  });

  it.each([
    ['plain, folded at 40', { lineWidth: 40, minContentWidth: 0 }, 180],
    [
      'single-quoted, folded',
      { defaultStringType: 'QUOTE_SINGLE', lineWidth: 30, minContentWidth: 0 },
      280,
    ],
    [
      'double-quoted, folded',
      { defaultStringType: 'QUOTE_DOUBLE', lineWidth: 30, minContentWidth: 0 },
      280,
    ],
    ['literal blocks', { blockQuote: 'literal', lineWidth: 0 }, 200],
    ['indented sequences', { indentSeq: true, lineWidth: 50, minContentWidth: 0 }, 180],
  ] as const)(
    'the yaml package’s writer (%s): the same tree, nearly always recognised',
    (_what, options, least) => {
      const next = rng(7);
      let recognised = 0;
      for (let i = 0; i < 300; i++) {
        const text = stringify(randomItem(next, tame, 0), { indentSeq: false, ...options });
        if (expectAgrees(text)) recognised++;
      }
      expect(recognised).toBeGreaterThanOrEqual(least);
    },
  );

  it('hostile characters too: the same tree or aside, never another tree', () => {
    const next = rng(11);
    for (let i = 0; i < 300; i++) {
      const tree = randomItem(next, hostile, 0);
      expectAgrees(itemToYaml(tree));
      expectAgrees(stringify(tree, { lineWidth: 30, minContentWidth: 0 }));
      expectAgrees(stringify(tree, { defaultStringType: 'QUOTE_SINGLE', lineWidth: 30 }));
    }
  });
});
