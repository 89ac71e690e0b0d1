import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  makeCerts,
  ServerFixture,
  waitForPartialFile,
  type Certs,
} from '../../test/support/aggregation.js';
import { TIMEOUT_ERROR_MESSAGE } from './types.js';

let certs: Certs;
let f: ServerFixture | undefined;

beforeAll(async () => {
  certs = await makeCerts();
});
afterEach(async () => {
  await f?.stop();
  f = undefined;
});

const path = '/api/v1/results/global/e2e';
const file = { 'content-disposition': 'attachment;filename=out.bin' };

/** A body the test feeds by hand, as a client that sends a little and then stops. */
function trickle(): PassThrough {
  return new PassThrough();
}

describe('uploads that stall (a real slow client over mutual TLS, time on the manual clock)', () => {
  it('cuts off an upload idle for the idle timeout with 408 and discards its partial file', async () => {
    f = await ServerFixture.start(certs, undefined, { uploadIdleMs: 60_000 });
    const body = trickle();
    const reply = f.put(path, certs.e2e, body, file);
    body.write(Buffer.alloc(1000, 1));
    await waitForPartialFile(f.dir, 1000);
    await f.clock.whenSleeping(1); // the upload's watchdog
    expect(f.clock.pendingDelays()).toEqual([60_000]);
    await f.clock.advance(59_999);
    expect(f.aggregator.pending()).toHaveLength(3); // not yet: still waiting
    await f.clock.advance(1);
    const res = await reply;
    expect(res.status).toBe(408);
    expect(res.json().code).toBe('FATHOM_UPLOAD_STALLED');
    expect(res.json().message).toContain('sent nothing for 60s');
    expect((await f.tree()).filter((p) => p.startsWith('.incoming-'))).toEqual([]);
    // The key stays open: the worker's retry is accepted.
    expect((await f.put(path, certs.e2e, 'whole', file)).status).toBe(200);
    body.destroy();
  });

  it('cuts off an upload that trickles past the request deadline', async () => {
    f = await ServerFixture.start(certs, undefined, {
      uploadIdleMs: 60_000,
      uploadDeadlineMs: 100_000,
    });
    const body = trickle();
    const reply = f.put(path, certs.e2e, body, file);
    let sent = 0;
    for (let i = 0; i < 3; i++) {
      body.write(Buffer.alloc(1000, 2));
      sent += 1000;
      await waitForPartialFile(f.dir, sent);
      await f.clock.advance(40_000); // never idle for a minute, but 120 s in all
    }
    const res = await reply;
    expect(res.status).toBe(408);
    expect(res.json().message).toContain('did not finish within 100s');
    expect((await f.tree()).filter((p) => p.startsWith('.incoming-'))).toEqual([]);
    body.destroy();
  });

  it('lets the plugin timeout win over a stalled upload: 409 for the upload, the timeout recorded', async () => {
    f = await ServerFixture.start(certs);
    const body = trickle();
    const reply = f.put(path, certs.e2e, body, file);
    body.write(Buffer.alloc(1000, 3));
    await waitForPartialFile(f.dir, 1000);
    // No time passes: the timeout must not wait for the upload's lock.
    const recorded = await f.aggregator.recordError(
      'e2e',
      'global',
      { error: TIMEOUT_ERROR_MESSAGE },
      { preempt: true },
    );
    expect(recorded).toBe(true);
    const res = await reply;
    expect(res.status).toBe(409);
    const error = JSON.parse(
      await readFile(join(f.dir, 'plugins/e2e/errors/global/error.json'), 'utf8'),
    ) as unknown;
    expect(error).toEqual({ error: TIMEOUT_ERROR_MESSAGE });
    expect((await f.tree()).some((p) => p.startsWith('plugins/e2e/results'))).toBe(false);
    expect((await f.tree()).filter((p) => p.startsWith('.incoming-'))).toEqual([]);
    body.destroy();
  });
});
