import { describe, expect, it } from 'vitest';
import { ConfigSet, isEmptyChange, mergeConfigs } from './merge.js';
import { parseCheckText } from './parse.js';

const one = (text: string, file: string) => parseCheckText(text, file)[0]!;
const a = one('name: a\ntype: tcp\ninstances: [{host: db, port: 1}]\n', 'a.yaml');
const aAgain = one('name: a\ntype: tcp\ninstances: [{host: db, port: 1}]\n', 'b.yaml');
const aSlower = one(
  'name: a\ntype: tcp\ninterval: 1m\ninstances: [{host: db, port: 1}]\n',
  'c.yaml',
);
const b = one('name: b\ntype: tcp\ninstances: [{host: db, port: 2}]\n', 'd.yaml');

describe('merging check configs', () => {
  it('keeps the first of each digest and of each check ID', () => {
    const { configs, errors } = mergeConfigs([a, b, aAgain, aSlower]);
    expect(configs).toEqual([a, b]);
    expect(errors.map((e) => [e.code, e.details.sources])).toEqual([
      ['FATHOM_CHECK_INVALID', ['a.yaml:1', 'b.yaml:1']],
      ['FATHOM_CHECK_INVALID', ['a.yaml:1', 'c.yaml:1']],
    ]);
  });

  it('turns whole sets into changes by digest and reports a duplicate once', () => {
    const set = new ConfigSet();
    expect(set.replace([a, aAgain])).toMatchObject({ added: [a], removed: [] });
    const again = set.replace([a, aAgain, b]);
    expect(again).toEqual({ added: [b], removed: [], errors: [] });
    expect(isEmptyChange(set.replace([aAgain, b]))).toBe(true); // same digest, other source
    const changed = set.replace([aSlower, b]);
    expect(changed.added).toEqual([aSlower]);
    expect(changed.removed.map((c) => c.digest)).toEqual([a.digest]);
    // A duplicate that went away and came back is new again.
    expect(set.replace([aSlower, b, aSlower]).errors).toHaveLength(1);
    expect(set.configs).toEqual([aSlower, b]);
  });
});
