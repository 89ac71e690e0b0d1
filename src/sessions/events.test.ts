import { describe, expect, it } from 'vitest';
import type { SessionEventKind } from './events.js';
import { mayFollow, orderProblem, stateAfter } from './events.js';

describe('event order', () => {
  const cases: [string, SessionEventKind[], number][] = [
    ['success', ['queued', 'accepted', 'provisioning', 'running', 'done'], -1],
    ['failure while running', ['queued', 'accepted', 'provisioning', 'running', 'errored'], -1],
    ['failure while provisioning', ['queued', 'accepted', 'provisioning', 'errored'], -1],
    ['refused or cancelled in the queue', ['queued', 'errored'], -1],
    ['done without running', ['queued', 'accepted', 'provisioning', 'done'], 3],
    ['not queued first', ['accepted'], 0],
    ['nothing after the end', ['queued', 'errored', 'accepted'], 2],
    ['no repeats', ['queued', 'queued'], 1],
  ];
  it.each(cases)('%s', (_, kinds, at) => {
    expect(orderProblem(kinds)).toBe(at);
  });

  it('starts with queued only', () => {
    expect(mayFollow(undefined, 'queued')).toBe(true);
    expect(mayFollow(undefined, 'errored')).toBe(false);
  });

  it('maps events to states, cancellation included', () => {
    expect(stateAfter('accepted', 'Provisioning')).toBe('Initializing');
    expect(stateAfter('done', 'DriverSucceeded')).toBe('Succeeded');
    expect(stateAfter('errored', 'Cancelled')).toBe('Cancelled');
    expect(stateAfter('errored', 'PodsMissing')).toBe('Errored');
  });
});
