/**
 * One agent client over several dispatcher replicas (what a Service in front of them gives on
 * Kubernetes): calls go to the replica that answered last; when it does not answer, or answers
 * that it cannot serve (503: no leader known, or its leader is gone), the next one is tried, each
 * at most once per call. Any replica will do: followers forward to the leader.
 */
import { isFathomError } from '../../core/errors.js';
import type { AgentClient } from './client.js';

function worthAnother(err: unknown): boolean {
  if (!isFathomError(err, 'FATHOM_DISPATCHER_UNAVAILABLE')) return false;
  const status = err.details.status;
  // No status: the replica did not answer at all.
  return status === undefined || status === 503;
}

export function failoverClient(clients: readonly AgentClient[]): AgentClient {
  if (clients.length === 1) return clients[0]!;
  let current = 0;
  const call = async <T>(op: (c: AgentClient) => Promise<T>): Promise<T> => {
    let last: unknown;
    for (let tried = 0; tried < clients.length; tried++) {
      const i = (current + tried) % clients.length;
      try {
        const value = await op(clients[i]!);
        current = i;
        return value;
      } catch (err) {
        last = err;
        if (!worthAnother(err)) throw err;
      }
    }
    current = (current + 1) % clients.length;
    throw last;
  };
  return {
    postStatus: (node, status) => call((c) => c.postStatus(node, status)),
    getConfigs: (node) => call((c) => c.getConfigs(node)),
    close: () => clients.forEach((c) => c.close()),
  };
}
