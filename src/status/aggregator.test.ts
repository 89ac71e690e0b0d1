import { describe, expect, it } from 'vitest';
import { aggregateStatus, createStatusCollector } from './aggregator.js';
import type { DesiredStatus } from './aggregator.js';
import type { ObjectIdentifier, ResourceStatus, Status } from './types.js';

describe('aggregateStatus', () => {
  it.each<[Status[], DesiredStatus, Status]>([
    [[], 'Current', 'Current'],
    [[], 'NotFound', 'NotFound'],
    [['Current', 'Current'], 'Current', 'Current'],
    [['Current', 'InProgress'], 'Current', 'InProgress'],
    [['Current', 'Failed', 'Unknown'], 'Current', 'Failed'],
    [['Unknown', 'Current'], 'Current', 'Unknown'],
    [['Current', 'NotFound'], 'Current', 'InProgress'],
    [['Current', 'Terminating'], 'Current', 'InProgress'],
    [['NotFound', 'NotFound'], 'NotFound', 'NotFound'],
    [['NotFound', 'Terminating'], 'NotFound', 'InProgress'],
    [['NotFound', 'Current'], 'NotFound', 'InProgress'],
    [['NotFound', 'Failed'], 'NotFound', 'Failed'],
    [['NotFound', 'Unknown'], 'NotFound', 'Unknown'],
  ])('%j for %s is %s', (statuses, desired, want) => {
    expect(aggregateStatus(statuses, desired)).toBe(want);
  });
});

describe('the status collector', () => {
  const id = (name: string, namespace = 'a'): ObjectIdentifier => ({
    group: 'apps',
    kind: 'Deployment',
    namespace,
    name,
  });
  const update = (identifier: ObjectIdentifier, status: Status): ResourceStatus => ({
    identifier,
    status,
    message: status,
    generatedResources: [],
  });

  it('starts every id at Unknown, replaces on updates, keeps the error, sorts', () => {
    const c = createStatusCollector([id('z'), id('b', 'z'), id('a')]);
    expect(c.aggregate('Current')).toBe('Unknown');
    expect(c.latest()).toEqual({
      statuses: [
        { identifier: id('a'), status: 'Unknown', message: '', generatedResources: [] },
        { identifier: id('z'), status: 'Unknown', message: '', generatedResources: [] },
        { identifier: id('b', 'z'), status: 'Unknown', message: '', generatedResources: [] },
      ],
    });
    for (const i of [id('z'), id('b', 'z'), id('a')])
      c.apply({ type: 'ResourceUpdate', resource: update(i, 'Current') });
    expect(c.aggregate('Current')).toBe('Current');
    c.apply({ type: 'ResourceUpdate', resource: update(id('a'), 'NotFound') });
    expect(c.aggregate('Current')).toBe('InProgress');
    c.apply({ type: 'Sync' });
    expect(c.latest().lastEventType).toBe('Sync');
    const err = new Error('gone');
    c.apply({ type: 'Error', error: err });
    expect(c.latest()).toMatchObject({ lastEventType: 'Error', error: err });
  });

  it('keeps the aggregate in step with the latest statuses, as kstatus computes it', () => {
    const ids = ['a', 'b', 'c', 'd'].map((n) => id(n));
    const c = createStatusCollector(ids);
    const all: Status[] = ['Current', 'InProgress', 'Failed', 'Unknown', 'NotFound'];
    let seed = 7;
    for (let i = 0; i < 500; i++) {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      c.apply({ type: 'ResourceUpdate', resource: update(ids[seed % 4]!, all[(seed >> 8) % 5]!) });
      const statuses = c.latest().statuses.map((s) => s.status);
      for (const desired of ['Current', 'NotFound'] as const)
        expect(c.aggregate(desired)).toBe(aggregateStatus(statuses, desired));
    }
    expect(createStatusCollector([]).aggregate('NotFound')).toBe('NotFound');
  });
});
