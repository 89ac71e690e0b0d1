import { describe, expect, it } from 'vitest';
import { configDigest } from './identity.js';
import { configFromWire } from './wire.js';

const content = {
  name: 'web',
  type: 'http' as const,
  intervalMs: 15_000,
  timeoutMs: 10_000,
  instances: [{ url: 'https://example.com/' }],
};
const good = { ...content, source: 'checks/web.yaml:1', digest: configDigest(content) };

describe('configs from the wire', () => {
  it('accepts a dispatched config and freezes it', () => {
    const c = configFromWire(JSON.parse(JSON.stringify(good)), 'configs[0]');
    expect(c).toEqual(good);
    expect(Object.isFrozen(c.instances[0])).toBe(true);
  });

  it.each<[string, unknown, string]>([
    ['not an object', 42, 'configs[0]: must be object'],
    ['an unknown type', { ...good, type: 'ftp' }, 'configs[0]: type:'],
    ['a bad instance', { ...good, instances: [{ url: 7 }] }, 'configs[0]: instances[0].url:'],
    ['an unknown field', { ...good, extra: 1 }, 'configs[0]:'],
    [
      'content that does not match its digest',
      { ...good, intervalMs: 20_000 },
      'configs[0]: digest: does not match',
    ],
    ['a name that is no check name', { ...good, name: 'Web' }, 'configs[0]: name:'],
  ])('refuses %s', (_, value, message) => {
    expect(() => configFromWire(value, 'configs[0]')).toThrow(message);
  });
});
