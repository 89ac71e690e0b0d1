import { describe, expect, it } from 'vitest';
import { FathomError } from '../../core/errors.js';
import type { AgentClient } from './client.js';
import { failoverClient } from './failover.js';

/** A replica that answers as told and counts its calls. */
function replica(answer: () => boolean) {
  const calls = { n: 0 };
  const client: AgentClient = {
    postStatus: () => {
      calls.n++;
      return Promise.resolve({ value: answer(), term: 1 });
    },
    getConfigs: () => Promise.reject(new Error('unused')),
    close: () => undefined,
  };
  return { client, calls };
}

const down = () => {
  throw new FathomError('FATHOM_DISPATCHER_UNAVAILABLE', 'POST: connect ECONNREFUSED');
};
const unavailable = () => {
  throw new FathomError('FATHOM_DISPATCHER_UNAVAILABLE', 'POST: 503 Startup in progress', {
    details: { status: 503 },
  });
};
const refused = () => {
  throw new FathomError('FATHOM_DISPATCHER_UNAVAILABLE', 'POST: 401 invalid session token', {
    details: { status: 401 },
  });
};

describe('failoverClient', () => {
  it('moves on from a replica that does not answer or cannot serve, and stays with the one that did', async () => {
    let aDown = true;
    const a = replica(() => (aDown ? down() : true));
    const b = replica(unavailable);
    const c = replica(() => true);
    const client = failoverClient([a.client, b.client, c.client]);
    expect((await client.postStatus('n', { last_change: 0 })).value).toBe(true);
    expect([a.calls.n, b.calls.n, c.calls.n]).toEqual([1, 1, 1]);
    aDown = false;
    await client.postStatus('n', { last_change: 0 });
    expect([a.calls.n, b.calls.n, c.calls.n]).toEqual([1, 1, 2]); // c answered last
  });

  it('does not hide an answer no other replica would change (a wrong token), nor all of them down', async () => {
    const a = replica(refused);
    const b = replica(() => true);
    await expect(
      failoverClient([a.client, b.client]).postStatus('n', { last_change: 0 }),
    ).rejects.toThrow(/401/);
    expect(b.calls.n).toBe(0);
    const none = failoverClient([replica(down).client, replica(unavailable).client]);
    await expect(none.postStatus('n', { last_change: 0 })).rejects.toThrow(/503/);
  });
});
