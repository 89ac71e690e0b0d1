/**
 * `kubernetes-status`: one object's kstatus, computed the way `fathom health --watch` does
 * (the status poller and its readers, generated resources included), for one cycle.
 */
import { FathomError, messageOf } from '../../core/errors.js';
import {
  createDirectClusterReader,
  createStatusPoller,
  formatGroupKind,
  type ObjectIdentifier,
  type ResourceStatus,
  type Status,
} from '../../status/index.js';
import type { KubernetesStatusInstance } from '../instances.js';
import type { CheckStatus } from '../types.js';
import type { RunContext, RunOutcome } from './types.js';

export const STATUS_OF: Readonly<Record<Status, CheckStatus>> = {
  Current: 'ok',
  InProgress: 'warning',
  Failed: 'critical',
  NotFound: 'critical',
  Terminating: 'unknown',
  Unknown: 'unknown',
};

export function identifierOfInstance(instance: KubernetesStatusInstance): ObjectIdentifier {
  const parts = instance.apiVersion.split('/');
  return {
    group: parts.length === 2 ? parts[0]! : '',
    kind: instance.kind,
    namespace: instance.namespace ?? '',
    name: instance.name,
  };
}

export async function runKubernetesStatus(
  instance: KubernetesStatusInstance,
  ctx: RunContext,
): Promise<RunOutcome> {
  if (!ctx.statusReader)
    throw new FathomError(
      'FATHOM_INTERNAL',
      'kubernetes-status needs a cluster to read; this agent has none',
    );
  const id = identifierOfInstance(instance);
  // One GET (plus the generated kinds' LISTs) per run rather than a LIST of the whole kind.
  const poller = createStatusPoller(ctx.statusReader, {
    clusterReaderFactory: (reader) => createDirectClusterReader(reader),
  });
  let found: ResourceStatus | undefined;
  for await (const event of poller.poll([id], {
    pollInterval: Math.max(1, ctx.timeoutMs),
    signal: ctx.signal,
    clock: ctx.clock,
  })) {
    if (event.type === 'Error') throw event.error;
    if (event.type === 'ResourceUpdate') {
      found = event.resource;
      break;
    }
  }
  if (!found) throw ctx.signal.reason instanceof Error ? ctx.signal.reason : new Error('stopped');
  const what = `${formatGroupKind(id)} ${id.namespace ? `${id.namespace}/` : ''}${id.name}`;
  const message = found.error
    ? `${what}: ${messageOf(found.error)}`
    : found.status === 'NotFound'
      ? `${what}: ${found.message}`
      : found.message;
  return { status: STATUS_OF[found.status], message, metrics: {} };
}
