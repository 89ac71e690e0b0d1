import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../core/clock.js';
import { runCheck, runWith } from './index.js';
import { lastLine, oneLine } from './message.js';
import type { RunContext } from './types.js';

const ctx = (clock = new ManualClock(), signal = new AbortController().signal): RunContext => ({
  clock,
  signal,
  timeoutMs: 2000,
});

describe('runCheck', () => {
  it('a runner that throws is unknown with its message on one line', async () => {
    const out = await runWith(
      {
        http: () => Promise.reject(new Error('bad\nthing')),
      },
      'http',
      {},
      ctx(),
    );
    expect(out).toEqual({ status: 'unknown', message: 'bad\\nthing', metrics: {} });
  });

  it('answers critical at the timeout even when the runner ignores its signal', async () => {
    const clock = new ManualClock();
    let seen: AbortSignal | undefined;
    const out = runWith(
      {
        tcp: (_i, c) => {
          seen = c.signal;
          return new Promise(() => undefined);
        },
      },
      'tcp',
      {},
      ctx(clock),
    );
    await clock.whenSleeping(1);
    await clock.advance(1999);
    expect(seen?.aborted).toBe(false);
    await clock.advance(1);
    expect(await out).toEqual({ status: 'critical', message: 'timed out after 2s', metrics: {} });
    expect(seen?.aborted).toBe(true);
  });

  it('a run stopped from outside is unknown, and its timer is gone', async () => {
    const clock = new ManualClock();
    const stop = new AbortController();
    const out = runWith(
      { dns: () => new Promise(() => undefined) },
      'dns',
      {},
      ctx(clock, stop.signal),
    );
    await clock.whenSleeping(1);
    stop.abort(new Error('instance removed'));
    expect(await out).toEqual({
      status: 'unknown',
      message: 'stopped: instance removed',
      metrics: {},
    });
    expect(clock.pending).toBe(0);
  });

  it('bounds a runner’s message and leaves no timer behind', async () => {
    const clock = new ManualClock();
    const out = await runWith(
      {
        command: () =>
          Promise.resolve({ status: 'ok', message: 'z'.repeat(900), metrics: { a: 1 } }),
      },
      'command',
      {},
      ctx(clock),
    );
    expect(out.message).toHaveLength(500);
    expect(out.metrics).toEqual({ a: 1 });
    expect(clock.pending).toBe(0);
  });

  it('an unknown type is unknown, never a throw', async () => {
    const out = await runCheck('nope' as never, {}, ctx());
    expect(out).toEqual({ status: 'unknown', message: 'unknown check type "nope"', metrics: {} });
  });
});

describe('messages', () => {
  it.each([
    ['plain', 'plain'],
    ['a\tb\r\n', 'a\\tb\\r\\n'],
    ['\u001b[2J\u009b', '\\x1b[2J\\x9b'],
    ['\u007f', '\\x7f'],
  ])('oneLine(%j) = %j', (input, want) => expect(oneLine(input)).toBe(want));

  it('cuts on a code point', () => {
    expect(oneLine('😀😀😀', 3)).toBe('😀…');
  });

  it.each([
    ['a\nb\n\n  \n', 'b'],
    ['only\r\n', 'only'],
    ['\n\n', ''],
  ])('lastLine(%j) = %j', (input, want) => expect(lastLine(input)).toBe(want));
});
