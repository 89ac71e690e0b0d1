import { describe, expect, it } from 'vitest';
import type { CheckConfig } from '../../checks/types.js';
import { SourceUnion } from './sources.js';

const config = (digest: string): CheckConfig => ({
  name: digest,
  type: 'command',
  intervalMs: 1000,
  timeoutMs: 1000,
  instances: [{ command: ['true'] }],
  source: 'x',
  digest,
});

describe('SourceUnion', () => {
  it('adds a digest once and removes it with its last source', () => {
    const u = new SourceUnion();
    const a = config('a');
    expect(u.apply(0, { added: [a, config('b')], removed: [] }).added.map((c) => c.digest)).toEqual(
      ['a', 'b'],
    );
    expect(u.apply(1, { added: [a], removed: [] })).toEqual({ added: [], removed: [] });
    expect(u.apply(0, { added: [], removed: [a] })).toEqual({ added: [], removed: [] });
    expect(u.apply(1, { added: [], removed: [a] })).toEqual({ added: [], removed: [a] });
    // Removing what a source never had changes nothing.
    expect(u.apply(1, { added: [], removed: [config('b')] })).toEqual({ added: [], removed: [] });
  });
});
