/**
 * `fathom logs` on Kubernetes: the aggregator's and every plugin container's log through the
 * pods/log API, once or followed (new pods are picked up as they start).
 */
import type { IncomingMessage } from 'node:http';
import { createInterface } from 'node:readline';
import type { LogLine, LogOptions } from '../backend.js';
import type { Clock } from '../../core/clock.js';
import { isFathomError, messageOf } from '../../core/errors.js';
import { AsyncQueue } from '../../core/queue.js';
import { GLOBAL_NODE } from '../../plugin/types.js';
import { resourcePath, type KubeClient } from './api/client.js';
import { isPermanent } from './api/errors.js';
import { watchObjects } from './api/informer.js';
import { AGGREGATOR_SELECTOR, COMPONENT_SELECTOR, LABEL, STATUS_ANNOTATION } from './names.js';
import type { Pod } from './api/types.js';

/** Where a container's lines come from, as the local backend names them. */
export function logSource(pod: Pod, container: string): string {
  const labels = pod.metadata.labels ?? {};
  if (labels[LABEL.role] === 'aggregator') return 'aggregator';
  const plugin = labels[LABEL.plugin] ?? pod.metadata.name;
  const node =
    pod.metadata.annotations?.['sonobuoy-driver'] === 'Job'
      ? GLOBAL_NODE
      : (pod.spec?.nodeName ?? '?');
  return `${plugin}/${node}/${container}`;
}

function selectorFor(plugin: string | undefined): string {
  if (plugin === 'fathom' || plugin === 'sonobuoy') return AGGREGATOR_SELECTOR;
  return plugin ? `${LABEL.plugin}=${plugin}` : COMPONENT_SELECTOR;
}

/** The aggregator first, then plugin pods by source name. */
function ordered(pods: readonly Pod[]): Pod[] {
  const rank = (p: Pod): string =>
    p.metadata.labels?.[LABEL.role] === 'aggregator' ? '0' : `1${logSource(p, '')}`;
  return [...pods].sort((a, b) => rank(a).localeCompare(rank(b)));
}

function started(pod: Pod, container: string): boolean {
  const s = pod.status?.containerStatuses?.find((c) => c.name === container)?.state;
  return Boolean(s?.running ?? s?.terminated);
}

function isFinished(pod: Pod): boolean {
  const text = pod.metadata.annotations?.[STATUS_ANNOTATION];
  if (!text) return pod.status?.phase === 'Failed' || pod.status?.phase === 'Succeeded';
  try {
    const s = (JSON.parse(text) as { status?: string }).status;
    return s === 'complete' || s === 'failed';
  } catch {
    return false;
  }
}

async function* lines(
  client: KubeClient,
  pod: Pod,
  container: string,
  follow: boolean,
  signal?: AbortSignal,
): AsyncGenerator<LogLine> {
  const ns = pod.metadata.namespace ?? '';
  const path = `${resourcePath('', 'pods', ns, pod.metadata.name)}/log`;
  const source = logSource(pod, container);
  let res: IncomingMessage;
  try {
    res = await client.stream(path, `reading the log of ${ns}/${pod.metadata.name}/${container}`, {
      query: { container, ...(follow ? { follow: true } : {}) },
      ...(signal ? { signal } : {}),
    });
  } catch (err) {
    // One unreadable container (a node whose kubelet is down) does not hide the others;
    // missing rights do, as they would for every container.
    if (
      signal?.aborted ||
      (isFathomError(err) && isPermanent(err) && err.code !== 'FATHOM_KUBE_NOT_FOUND')
    )
      throw err;
    yield { source, line: `error: ${messageOf(err)}` };
    return;
  }
  try {
    for await (const line of createInterface({ input: res, crlfDelay: Infinity }))
      yield { source, line };
  } catch (err) {
    if (!signal?.aborted) yield { source, line: `error: the log stream broke: ${messageOf(err)}` };
  }
}

/** Every log line of the run's containers; with `follow`, until the run ends or the signal aborts. */
export async function* runLogs(
  client: KubeClient,
  namespace: string,
  options: LogOptions,
  clock: Clock,
): AsyncGenerator<LogLine> {
  const path = resourcePath('', 'pods', namespace);
  const labelSelector = selectorFor(options.plugin);
  if (!options.follow) {
    const pods = await client.list<Pod>(path, `listing the pods of namespace ${namespace}`, {
      labelSelector,
    });
    for (const pod of ordered(pods.items)) {
      for (const c of pod.spec?.containers ?? []) {
        if (started(pod, c.name)) yield* lines(client, pod, c.name, false);
      }
    }
    return;
  }
  const stop = new AbortController();
  const onAbort = (): void => stop.abort();
  options.signal?.addEventListener('abort', onAbort, { once: true });
  const out = new AsyncQueue<LogLine | Error>();
  const streaming = new Set<string>();
  const follow = (pod: Pod): void => {
    for (const c of pod.spec?.containers ?? []) {
      const key = `${pod.metadata.uid ?? pod.metadata.name}/${c.name}`;
      if (streaming.has(key) || !started(pod, c.name)) continue;
      streaming.add(key);
      void (async () => {
        try {
          for await (const l of lines(client, pod, c.name, true, stop.signal)) out.push(l);
        } catch (err) {
          if (!stop.signal.aborted) out.push(err as Error);
        }
      })();
    }
  };
  const watch = async (): Promise<void> => {
    for await (const ev of watchObjects<Pod>({
      client,
      path,
      // The aggregator pod is watched too: its status annotation says when the run is over.
      labelSelector: COMPONENT_SELECTOR,
      clock,
      signal: stop.signal,
      what: `watching the pods of namespace ${namespace}`,
    })) {
      if (ev.type === 'error') continue;
      const pods =
        ev.type === 'synced' || ev.type === 'resync'
          ? ev.objects
          : ev.type === 'deleted'
            ? []
            : [ev.object];
      for (const pod of pods) {
        if (pod.metadata.labels?.[LABEL.role] === 'aggregator' && isFinished(pod)) {
          out.end();
          stop.abort();
          return;
        }
        if (matches(pod, options.plugin)) follow(pod);
      }
    }
  };
  void watch().finally(() => out.end());
  try {
    for await (const item of out.drain(options.signal)) {
      if (item instanceof Error) throw item;
      yield item;
    }
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
    stop.abort();
  }
}

function matches(pod: Pod, plugin: string | undefined): boolean {
  const labels = pod.metadata.labels ?? {};
  if (plugin === 'fathom' || plugin === 'sonobuoy') return labels[LABEL.role] === 'aggregator';
  return !plugin || labels[LABEL.plugin] === plugin;
}
