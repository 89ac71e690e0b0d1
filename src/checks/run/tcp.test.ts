import { createServer, type Server } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../core/clock.js';
import { runCheck } from './index.js';

class SteppingClock extends ManualClock {
  #step = 0;
  constructor(readonly stepMs: number) {
    super(0);
  }
  override now(): number {
    return super.now() + this.stepMs * this.#step++;
  }
}

let open: Server;
let openPort: number;
let closedPort: number;

function listen(server: Server): Promise<number> {
  return new Promise((r) =>
    server.listen(0, '127.0.0.1', () => r((server.address() as AddressInfo).port)),
  );
}

beforeAll(async () => {
  open = createServer((s) => s.on('error', () => undefined));
  openPort = await listen(open);
  const closed = createServer();
  closedPort = await listen(closed);
  await new Promise((r) => closed.close(r));
});

afterAll(() => new Promise((r) => open.close(r)));

const ctx = (clock: ManualClock = new ManualClock()) => ({
  clock,
  signal: new AbortController().signal,
  timeoutMs: 5000,
});

describe('tcp runner', () => {
  it('connects to a listening port and reports connect_ms on the clock', async () => {
    const connection = new Promise((r) => open.once('connection', r));
    const out = await runCheck(
      'tcp',
      { host: '127.0.0.1', port: openPort },
      ctx(new SteppingClock(7)),
    );
    expect(out).toEqual({ status: 'ok', message: '', metrics: { connect_ms: 7 } });
    await connection; // the server saw it: a real connect, not a guess
  });

  it('warns when the connect is slower than latency_warning_ms', async () => {
    const out = await runCheck(
      'tcp',
      { host: '127.0.0.1', port: openPort, latency_warning_ms: 5 },
      ctx(new SteppingClock(7)),
    );
    expect(out).toEqual({
      status: 'warning',
      message: `127.0.0.1:${openPort}: connect took 7 ms, over 5 ms`,
      metrics: { connect_ms: 7 },
    });
  });

  it('is critical on a refused connection', async () => {
    const out = await runCheck('tcp', { host: '127.0.0.1', port: closedPort }, ctx());
    expect(out).toEqual({
      status: 'critical',
      message: `127.0.0.1:${closedPort}: connection refused`,
      metrics: {},
    });
  });

  it('is critical when the connect does not finish within the timeout', async () => {
    // 192.0.2.0/24 (TEST-NET-1) is never routed: the connect hangs or fails at once, never succeeds.
    const clock = new ManualClock();
    const out = runCheck('tcp', { host: '192.0.2.1', port: 9 }, ctx(clock));
    await clock.whenSleeping(1);
    await clock.advance(5000);
    const res = await out;
    expect(res.status).toBe('critical');
    expect(res.message).toMatch(/^(timed out after 5s|192\.0\.2\.1:9: .+)$/);
  });
});
