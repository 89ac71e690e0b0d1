import { describe, expect, it } from 'vitest';
import {
  aggregateTree,
  formatCounts,
  type Item,
  leafCounts,
  parseCounts,
  summarize,
} from './item.js';

const leaf = (name: string, status: string): Item => ({ name, status });

describe('aggregateTree', () => {
  it('recomputes non-leaves: failed/timeout beat unknown beat passed; skipped-only passes', () => {
    const t = aggregateTree({
      name: 'root',
      status: 'whatever',
      items: [
        { name: 'a', status: 'passed', items: [leaf('1', 'passed'), leaf('2', 'timeout')] },
        { name: 'b', status: 'failed', items: [leaf('3', 'skipped'), leaf('4', '')] },
        { name: 'c', status: 'x', items: [leaf('5', 'skipped')] },
      ],
    });
    expect(t.items!.map((i) => i.status)).toEqual(['failed', 'unknown', 'passed']);
    expect(t.items![1]!.items![1]!.status).toBe('unknown');
    expect(t.status).toBe('failed');
  });

  it('makes an empty root or node unknown and drops empty fields', () => {
    expect(aggregateTree({ name: 'p', status: '', meta: {}, details: {}, items: [] })).toEqual({
      name: 'p',
      status: 'unknown',
    });
    const t = aggregateTree({
      name: 'p',
      status: '',
      items: [{ name: 'n', status: '', meta: { type: 'node' }, items: [] }],
    });
    expect(t.items![0]).toEqual({ name: 'n', status: 'unknown', meta: { type: 'node' } });
    expect(t.status).toBe('unknown');
  });

  it('switches every non-leaf to counts once any leaf anywhere has a custom status', () => {
    const t = aggregateTree({
      name: 'root',
      status: '',
      items: [
        { name: 'plain', status: '', items: [leaf('1', 'passed'), leaf('2', 'passed')] },
        {
          name: 'custom',
          status: '',
          items: [leaf('3', 'custom-status'), leaf('4', 'failed'), leaf('5', '')],
        },
        leaf('already counted', 'b: 2, a: 1'),
      ],
    });
    expect(t.items!.map((i) => i.status)).toEqual([
      'passed: 2',
      'custom-status: 1, failed: 1, unknown: 1',
      'b: 2, a: 1',
    ]);
    expect(t.status).toBe('a: 1, b: 2, custom-status: 1, failed: 1, passed: 2, unknown: 1');
  });
});

describe('parseCounts / formatCounts', () => {
  it('reads counted statuses like Sonobuoy (bad counts ignored, bare parts count once)', () => {
    expect([...parseCounts('a: 2, b: 3')]).toEqual([
      ['a', 2],
      ['b', 3],
    ]);
    expect([...parseCounts('foo, bar')]).toEqual([
      ['foo', 1],
      ['bar', 1],
    ]);
    expect([...parseCounts('x: y')]).toEqual([]);
    expect([...parseCounts('')]).toEqual([['unknown', 1]]);
    expect(
      formatCounts(
        new Map([
          ['b', 1],
          ['a', 2],
        ]),
      ),
    ).toBe('a: 2, b: 1');
  });
});

describe('summarize', () => {
  const ds = aggregateTree({
    name: 'systemd-logs',
    status: '',
    meta: { type: 'summary' },
    items: [
      { name: 'n1', status: '', meta: { type: 'node' }, items: [leaf('f', 'passed')] },
      {
        name: 'n2',
        status: '',
        meta: { type: 'node' },
        items: [leaf('g', 'passed'), leaf('h', 'skipped')],
      },
      {
        name: 'n2',
        status: '',
        meta: { type: 'node' },
        items: [leaf('timeout waiting', 'timeout')],
      },
    ],
  });

  it('gives the whole tree for a Job', () => {
    expect(summarize(ds)).toEqual({
      status: 'failed',
      counts: { passed: 2, skipped: 1, timeout: 1 },
    });
  });

  it('gives the node sub-tree for a DaemonSet, merging a node listed for results and errors', () => {
    expect(summarize(ds, 'n1')).toEqual({ status: 'passed', counts: { passed: 1 } });
    expect(summarize(ds, 'n2')).toEqual({
      status: 'failed',
      counts: { passed: 1, skipped: 1, timeout: 1 },
    });
    expect(summarize(ds, 'absent')).toEqual({ status: 'unknown', counts: {} });
  });

  it('counts leaves', () => {
    expect(leafCounts({ name: 'x', status: '' })).toEqual({ unknown: 1 });
  });
});
