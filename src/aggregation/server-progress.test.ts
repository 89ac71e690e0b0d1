import { Readable } from 'node:stream';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { makeCerts, ServerFixture, type Certs } from '../../test/support/aggregation.js';
import { PROGRESS_LIMITS } from './progress.js';

let certs: Certs;
let f: ServerFixture;

beforeAll(async () => {
  certs = await makeCerts();
});
beforeEach(async () => {
  f = await ServerFixture.start(certs);
});
afterEach(async () => {
  await f.stop();
});

const path = '/api/v1/progress/global/e2e';

/** A JSON progress body of exactly `size` bytes. */
function bodyOf(size: number): string {
  const head = '{"msg":"';
  const tail = '"}';
  return `${head}${'m'.repeat(size - head.length - tail.length)}${tail}`;
}

describe('aggregation server: progress bounds', () => {
  it('accepts an update of exactly the per-update limit', async () => {
    const res = await f.send(path, {
      method: 'POST',
      creds: certs.e2e,
      body: bodyOf(PROGRESS_LIMITS.bodyBytes),
    });
    expect(res.status).toBe(200);
    expect(Buffer.byteLength(f.aggregator.entries()[0]!.progress!.msg)).toBeLessThanOrEqual(
      PROGRESS_LIMITS.msgBytes,
    );
  });

  it('answers 413 FATHOM_PROGRESS_TOO_LARGE to a bigger one, declared or streamed', async () => {
    const over = bodyOf(PROGRESS_LIMITS.bodyBytes + 1);
    const declared = await f.send(path, { method: 'POST', creds: certs.e2e, body: over });
    expect(declared.status).toBe(413);
    expect(declared.json()).toEqual({
      code: 'FATHOM_PROGRESS_TOO_LARGE',
      message: `progress update is over ${PROGRESS_LIMITS.bodyBytes} bytes`,
    });
    // Chunked, so the size shows only while reading.
    const streamed = await f.send(path, {
      method: 'POST',
      creds: certs.e2e,
      body: Readable.from([over.slice(0, 40_000), over.slice(40_000)]),
    });
    expect(streamed.status).toBe(413);
    expect(f.aggregator.entries()[0]).not.toHaveProperty('progress');
  });

  it('keeps the merged progress bounded over many appending updates', async () => {
    const failing = Array.from({ length: 50 }, (_, i) => `case-${i} ${'w'.repeat(1000)}`);
    const body = JSON.stringify({ appendtotals: true, appendcompleted: 1, appendfailing: failing });
    expect(Buffer.byteLength(body)).toBeLessThan(PROGRESS_LIMITS.bodyBytes);
    for (let i = 0; i < 40; i++) {
      const res = await f.send(path, { method: 'POST', creds: certs.e2e, body });
      expect(res.status).toBe(200);
    }
    const progress = f.aggregator.entries()[0]!.progress!;
    expect(progress.total).toBe(40 * 51);
    expect(progress.failures!.length + progress.droppedfailures!).toBe(40 * 50);
    expect(JSON.stringify(f.aggregator.entries()).length).toBeLessThan(
      PROGRESS_LIMITS.totalBytes + 1024,
    );
  });
});
