import { describe, expect, it } from 'vitest';
import type { RunStatus } from '../../aggregation/types.js';
import {
  COMPRESS_ABOVE,
  decodeStatusAnnotation,
  encodeStatusAnnotation,
} from './status-annotation.js';

function statusOf(nodes: number): RunStatus {
  return {
    status: 'running',
    'tar-info': { name: '', created: '0001-01-01T00:00:00Z', sha256: '', size: 0 },
    plugins: Array.from({ length: nodes }, (_, i) => ({
      plugin: 'node-inventory',
      node: `ip-10-0-${i >> 8}-${i & 255}.eu-west-1.compute.internal`,
      status: i % 3 ? 'complete' : 'running',
      'result-status': i % 3 ? 'passed' : '',
      'result-counts': i % 3 ? { passed: 1 } : {},
    })),
  } as RunStatus;
}

describe('the status annotation', () => {
  it('stays plain JSON while small, as Sonobuoy writes it', () => {
    const small = statusOf(10);
    const text = encodeStatusAnnotation(small);
    expect(JSON.parse(text)).toEqual(small);
    expect(decodeStatusAnnotation(text)).toEqual(small);
  });

  it('is compressed past the threshold and fits 256 KiB for 20,000 nodes', () => {
    const big = statusOf(20_000);
    expect(JSON.stringify(big).length).toBeGreaterThan(2 * 1024 * 1024);
    const text = encodeStatusAnnotation(big);
    expect(text.startsWith('gzip:')).toBe(true);
    expect(text.length).toBeLessThan(256 * 1024);
    expect(decodeStatusAnnotation(text)).toEqual(big);
  });

  it('compresses exactly above the threshold', () => {
    const s = statusOf(1);
    const size = Buffer.byteLength(JSON.stringify(s));
    expect(encodeStatusAnnotation(s, size).startsWith('{')).toBe(true);
    expect(encodeStatusAnnotation(s, size - 1).startsWith('gzip:')).toBe(true);
    expect(COMPRESS_ABOVE).toBe(64 * 1024);
  });

  it('reads garbage, truncated gzip and absent values as no status', () => {
    expect(decodeStatusAnnotation(undefined)).toBeUndefined();
    expect(decodeStatusAnnotation('{not json')).toBeUndefined();
    const text = encodeStatusAnnotation(statusOf(20_000));
    expect(decodeStatusAnnotation(text.slice(0, 1000))).toBeUndefined();
    expect(decodeStatusAnnotation('gzip:!!!')).toBeUndefined();
  });

  it('checks the shape and freezes what it gives', () => {
    const read = decodeStatusAnnotation(encodeStatusAnnotation(statusOf(3)))!;
    expect(Object.isFrozen(read.plugins[0])).toBe(true);
    const bad = { ...statusOf(2), status: 'done' };
    expect(() => decodeStatusAnnotation(JSON.stringify(bad))).toThrow(
      'annotation sonobuoy.hept.io/status: status: must be one of "running", "post-processing", "complete", "failed"',
    );
    const noCounts = JSON.stringify({ ...statusOf(1), plugins: [{ plugin: 'p', node: 'n' }] });
    expect(() =>
      decodeStatusAnnotation(encodeStatusAnnotation(JSON.parse(noCounts) as RunStatus, 10)),
    ).toThrow(/^annotation sonobuoy\.hept\.io\/status: plugins\[0\]\.status: is missing$/);
  });
});
