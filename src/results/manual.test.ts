import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Item } from './item.js';
import { parseItemYaml, readManual } from './manual.js';

describe('parseItemYaml', () => {
  it('takes scalars as text, keeps nested details, ignores unknown keys and later documents', () => {
    const item = parseItemYaml(`name: 5
status: true
extra: ignored
meta: {a: 1, b: x}
details: {list: [1, {k: v}], n: null}
items:
- name: leaf
  status: custom
- ~
---
name: second document
`);
    expect(item).toEqual({
      name: '5',
      status: 'true',
      meta: { a: '1', b: 'x' },
      details: { list: [1, { k: 'v' }], n: null },
      items: [
        { name: 'leaf', status: 'custom' },
        { name: '', status: '' },
      ],
    });
  });

  it.each([
    ['meta: [a]', /root\.meta: expected a map of strings, got a list/],
    ['meta: {a: {b: c}}', /root\.meta\.a: expected a string, got a map/],
    ['name: [x]', /root\.name: expected a string, got a list/],
    ['details: [1]', /root\.details: expected a map, got a list/],
    ['items: {a: b}', /root\.items: expected a list, got a map/],
    ['items: [1]', /root\.items\[0\]: expected an item \(a map\), got a number/],
    ['- just a list', /root: expected an item/],
    ['name: "unterminated', /invalid YAML/],
    ['', /EOF/],
    ['a: 1\na: 2\n', undefined],
  ])('type-checks %j', (text, error) => {
    if (error) expect(() => parseItemYaml(text)).toThrow(error);
    else expect(() => parseItemYaml(text)).not.toThrow();
  });

  it('refuses an alias bomb quickly', () => {
    const bomb = [
      'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]',
      'b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]',
      'c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]',
      'd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]',
      'e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]',
      'f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]',
      'g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]',
      'h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]',
      'i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]',
      'details: {x: *i}',
    ].join('\n');
    expect(() => parseItemYaml(bomb)).toThrow(/invalid YAML: .*alias/i);
  });

  it('bounds nesting of items and details, and the item count', () => {
    let deep = 'name: x';
    for (let i = 0; i < 200; i++) deep = `items:\n- ${deep.replaceAll('\n', '\n  ')}`;
    expect(() => parseItemYaml(deep)).toThrow(/nested deeper than 128/);
    const many = `items:\n${'- {name: a}\n'.repeat(50)}`;
    expect(() => parseItemYaml(many, { maxItems: 10 })).toThrow(/more than 10 items/);
  });
});

describe('readManual', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'fathom-manual-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });
  const file = (): Item => ({
    name: 'r.yaml',
    status: 'unknown',
    meta: { file: 'results/global/r.yaml', type: 'file' },
  });

  it("drops the plugin's own root name and meta, keeps status, details and items", async () => {
    await writeFile(
      join(dir, 'r.yaml'),
      'name: own\nstatus: s\nmeta: {type: summary}\ndetails: {k: v}\nitems: [{name: t, status: passed}]\n',
    );
    expect(await readManual(join(dir, 'r.yaml'), file())).toEqual({
      ...file(),
      status: 's',
      details: { k: 'v' },
      items: [{ name: 't', status: 'passed' }],
    });
  });

  it('turns a bad file into an unknown item with meta.error', async () => {
    await writeFile(join(dir, 'bad.yaml'), 'items: 7\n');
    const item = await readManual(join(dir, 'bad.yaml'), file());
    expect(item.status).toBe('unknown');
    expect(item.meta!.error).toMatch(
      /^failed to parse yaml results object provided by plugin: root\.items: expected a list/,
    );
    await writeFile(join(dir, 'big.yaml'), 'x'.repeat(2000));
    const big = await readManual(join(dir, 'big.yaml'), file(), { maxBytes: 1000 });
    expect(big.meta!.error).toMatch(/more than the 1000 allowed/);
  });
});
