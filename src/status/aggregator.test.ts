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
});
