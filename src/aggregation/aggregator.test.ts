import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { systemClock, flushMicrotasks, ManualClock } from '../core/clock.js';
import type { ExpectedResult } from '../plugin/types.js';
import { createAggregator, type Aggregator } from './aggregator.js';

const expected: ExpectedResult[] = [
  { plugin: 'e2e', node: 'global' },
  { plugin: 'systemd-logs', node: 'node-1' },
  { plugin: 'systemd-logs', node: 'node-2' },
];

const body = (text: string): Readable => Readable.from([Buffer.from(text)]);

describe('aggregator', () => {
  let dir: string;
  let clock: ManualClock;
  let aggregator: Aggregator;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'fathom-aggregator-'));
    clock = new ManualClock(Date.UTC(2026, 0, 2, 3, 4, 5));
    aggregator = createAggregator({ outputDir: dir, expected, clock });
  });

  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('starts with every expected result running, in the order given, once each', () => {
    const twice = createAggregator({
      clock: systemClock,
      outputDir: dir,
      expected: [...expected, expected[0]!],
    });
    expect(twice.entries()).toEqual(
      expected.map((e) => ({
        ...e,
        status: 'running',
        'result-status': '',
        'result-counts': null,
      })),
    );
    expect(twice.pending()).toEqual(expected);
    expect(twice.isComplete()).toBe(false);
  });

  it("records a worker's {error} body as an error result, but keeps other JSON results", async () => {
    await aggregator.ingest({
      plugin: 'e2e',
      node: 'global',
      contentType: 'application/json',
      body: body('{"error":"done file names /etc/passwd, outside the results dir"}'),
    });
    await aggregator.ingest({
      plugin: 'systemd-logs',
      node: 'node-1',
      contentType: 'application/json',
      body: body('{"error":"x","extra":1}'),
    });
    expect(aggregator.entries().map((e) => e.status)).toEqual(['failed', 'complete', 'running']);
    expect(
      JSON.parse(await readFile(join(dir, 'plugins/e2e/errors/global/error.json'), 'utf8')),
    ).toEqual({
      error: 'done file names /etc/passwd, outside the results dir',
    });
    await expect(readdir(join(dir, 'plugins/e2e/results'))).resolves.toEqual([]);
    await expect(
      readFile(join(dir, 'plugins/systemd-logs/results/node-1/result'), 'utf8'),
    ).resolves.toBe('{"error":"x","extra":1}');
  });

  it('is complete at once when nothing is expected', async () => {
    const none = createAggregator({ clock: systemClock, outputDir: dir, expected: [] });
    expect(none.isComplete()).toBe(true);
    await expect(none.whenComplete()).resolves.toBeUndefined();
  });

  it('tells listeners about results, errors and progress, until they unsubscribe', async () => {
    let calls = 0;
    const unsubscribe = aggregator.onChange(() => calls++);
    aggregator.onChange(() => {
      throw new Error('a broken listener must not break ingest');
    });
    await aggregator.ingest({ plugin: 'e2e', node: 'global', body: body('x') });
    await aggregator.recordError('systemd-logs', 'node-1', { error: 'boom' });
    aggregator.updateProgress('systemd-logs', 'node-2', { msg: 'hi' });
    expect(calls).toBe(3);
    unsubscribe();
    aggregator.updateProgress('systemd-logs', 'node-2', { msg: 'again' });
    expect(calls).toBe(3);
  });

  it('does not notify for refused results or ignored errors', async () => {
    await aggregator.ingest({ plugin: 'e2e', node: 'global', body: body('x') });
    let calls = 0;
    aggregator.onChange(() => calls++);
    await expect(
      aggregator.ingest({ plugin: 'e2e', node: 'global', body: body('y') }),
    ).rejects.toMatchObject({ code: 'FATHOM_RESULT_DUPLICATE' });
    expect(await aggregator.recordError('e2e', 'global', { error: 'late' })).toBe(false);
    expect(calls).toBe(0);
  });

  it('refuses unsafe names before anything else, and leaves the body unread', async () => {
    const untouched = body('x');
    await expect(
      aggregator.ingest({ plugin: 'e2e', node: '..', body: untouched }),
    ).rejects.toMatchObject({ code: 'FATHOM_RESULT_BAD_NAME' });
    await expect(
      aggregator.ingest({ plugin: 'e2e', node: 'global', filename: 'a/b', body: untouched }),
    ).rejects.toMatchObject({ code: 'FATHOM_RESULT_BAD_NAME' });
    await expect(aggregator.recordError('e2e', 'x/y', { error: 'e' })).rejects.toMatchObject({
      code: 'FATHOM_RESULT_BAD_NAME',
    });
    expect(untouched.readableFlowing).toBe(null);
    expect(await readdir(dir)).toEqual([]);
  });

  it('refuses a declared size over the limit without reading the body', async () => {
    const small = createAggregator({
      clock: systemClock,
      outputDir: dir,
      expected,
      maxResultBytes: 10,
    });
    const untouched = body('x');
    await expect(
      small.ingest({ plugin: 'e2e', node: 'global', body: untouched, size: 11 }),
    ).rejects.toMatchObject({ code: 'FATHOM_RESULT_TOO_LARGE' });
    expect(untouched.readableFlowing).toBe(null);
    await small.ingest({ plugin: 'e2e', node: 'global', body: body('0123456789'), size: 10 });
    expect(small.isComplete()).toBe(false);
    expect(small.pending()).toHaveLength(2);
  });

  it('throws FATHOM_RESULT_UNEXPECTED for an error about a result nobody expects', async () => {
    await expect(aggregator.recordError('e2e', 'node-1', { error: 'x' })).rejects.toMatchObject({
      code: 'FATHOM_RESULT_UNEXPECTED',
      message: 'result e2e/node-1 unexpected',
    });
  });

  it('stores the error object as JSON, with extra fields such as the pod', async () => {
    const pod = { metadata: { name: 'sonobuoy-systemd-logs-abc' } };
    expect(await aggregator.recordError('systemd-logs', 'node-1', { error: 'boom', pod })).toBe(
      true,
    );
    const text = await readFile(join(dir, 'plugins/systemd-logs/errors/node-1/error.json'), 'utf8');
    expect(JSON.parse(text)).toEqual({ error: 'boom', pod });
    expect(aggregator.entries()[1]!.status).toBe('failed');
  });

  it('serialises two uploads of one key: the second waits, then gets 409', async () => {
    const slow = new PassThrough();
    const first = aggregator.ingest({ plugin: 'e2e', node: 'global', filename: 'a', body: slow });
    const second = aggregator.ingest({
      plugin: 'e2e',
      node: 'global',
      filename: 'b',
      body: body('2'),
    });
    let secondSettled = false;
    second.catch(() => undefined).finally(() => (secondSettled = true));
    slow.write('first half ');
    await flushMicrotasks();
    expect(secondSettled).toBe(false);
    slow.end('second half');
    await first;
    await expect(second).rejects.toMatchObject({ code: 'FATHOM_RESULT_DUPLICATE' });
    expect(await readdir(join(dir, 'plugins/e2e/results/global'))).toEqual(['a']);
  });

  it('lets a retry through after an upload fails half way', async () => {
    const broken = new PassThrough();
    const failing = aggregator.ingest({ plugin: 'e2e', node: 'global', body: broken });
    const retry = aggregator.ingest({ plugin: 'e2e', node: 'global', body: body('whole') });
    broken.write('part');
    broken.destroy(new Error('connection reset'));
    await expect(failing).rejects.toMatchObject({ code: 'FATHOM_RESULT_WRITE_FAILED' });
    await retry;
    expect(await readFile(join(dir, 'plugins/e2e/results/global/result'), 'utf8')).toBe('whole');
    expect(await readdir(dir)).toEqual(['plugins']);
  });

  it('makes a Monitor error wait for an upload in flight, and then ignores it', async () => {
    const slow = new PassThrough();
    const upload = aggregator.ingest({ plugin: 'e2e', node: 'global', body: slow });
    const error = aggregator.recordError('e2e', 'global', { error: 'timeout' });
    slow.end('done');
    await upload;
    expect(await error).toBe(false);
    expect(aggregator.entries()[0]!.status).toBe('complete');
  });

  it('whenComplete rejects with the reason when its signal aborts', async () => {
    const controller = new AbortController();
    const waiting = aggregator.whenComplete(controller.signal);
    controller.abort(new Error('run cancelled'));
    await expect(waiting).rejects.toThrow('run cancelled');
    await expect(aggregator.whenComplete(controller.signal)).rejects.toThrow('run cancelled');
  });

  it('keeps progress per key and stamps it with the injected clock', async () => {
    const first = aggregator.updateProgress('e2e', 'global', { msg: 'a', total: 5, completed: 1 });
    expect(first.timestamp).toBe('2026-01-02T03:04:05.000Z');
    await clock.advance(60_000);
    const merged = aggregator.updateProgress('e2e', 'global', { msg: 'b', appendcompleted: 2 });
    expect(merged).toEqual({
      name: 'e2e',
      node: 'global',
      timestamp: '2026-01-02T03:05:05.000Z',
      msg: 'b',
      total: 5,
      completed: 3,
    });
    merged.completed = 99; // callers get copies
    expect(aggregator.entries()[0]!.progress!.completed).toBe(3);
    expect(aggregator.entries()[1]).not.toHaveProperty('progress');
    expect(() => aggregator.updateProgress('e2e', 'node-1', {})).toThrow(
      'progress update for e2e/node-1 unexpected',
    );
  });
});
