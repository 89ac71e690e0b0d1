/**
 * Check configs from the cluster: ConfigMaps labelled `fathom.dev/checks`, and Services annotated
 * `fathom.dev/check.<name>` expanded over their EndpointSlices. Three informers feed one set;
 * the conversion itself is the checks domain's (pure, in checks/config/kube-sources.ts).
 */
import type { Clock } from '../../core/clock.js';
import type { FathomError } from '../../core/errors.js';
import { AsyncQueue } from '../../core/queue.js';
import type { CheckConfig } from '../../checks/types.js';
import type {
  CheckConfigChange,
  ConfigMapLike,
  EndpointSliceLike,
  ServiceLike,
  SourceConfigs,
} from '../../checks/config/index.js';
import {
  checkAnnotationPrefix,
  checksLabel,
  ConfigSet,
  configMapChecks,
  isEmptyChange,
  serviceChecks,
  targetsOfSlices,
} from '../../checks/config/index.js';
import type { KubeClient } from './api/client.js';
import { resourcePath } from './api/client.js';
import type { Backoff, WatchEvent, WatchedObject } from './api/informer.js';
import { watchObjects } from './api/informer.js';

export interface KubeCheckSourcesOptions {
  readonly client: KubeClient;
  /** Watch one namespace; all namespaces when absent. */
  readonly namespace?: string;
  readonly clock: Clock;
  readonly signal: AbortSignal;
  readonly backoff?: Backoff;
}

type Kind = 'configmaps' | 'services' | 'endpointslices';
type Watched = WatchedObject & ConfigMapLike & ServiceLike & EndpointSliceLike;
interface Tagged {
  readonly kind: Kind;
  readonly event: WatchEvent<Watched>;
}

const serviceNameLabel = 'kubernetes.io/service-name';
const keyOf = (o: WatchedObject): string => `${o.metadata.namespace ?? ''}/${o.metadata.name}`;

function slicesPath(namespace: string | undefined): string {
  const ns = namespace ? `/namespaces/${encodeURIComponent(namespace)}` : '';
  return `/apis/discovery.k8s.io/v1${ns}/endpointslices`;
}

const hasCheckAnnotation = (s: ServiceLike): boolean =>
  Object.keys(s.metadata?.annotations ?? {}).some((k) => k.startsWith(checkAnnotationPrefix));

/** The cluster's check sources as they are, turned into configs source by source. */
class Sources {
  readonly configMaps = new Map<string, SourceConfigs>();
  readonly services = new Map<string, ServiceLike>();
  /** Service key → slice key → slice. */
  readonly slices = new Map<string, Map<string, Watched>>();
  readonly serviceConfigs = new Map<string, SourceConfigs>();
  /** Error messages last reported per source, so an unchanged problem is not repeated. */
  readonly #reported = new Map<string, Set<string>>();

  /** Applies one event; returns the new errors of the sources it touched. */
  apply({ kind, event }: Tagged): FathomError[] {
    if (event.type === 'error') return [event.error];
    if (event.type === 'resync') return [];
    const errors: FathomError[] = [];
    const objects = event.type === 'synced' ? event.objects : [event.object];
    const deleted = event.type === 'deleted';
    if (kind === 'configmaps') {
      if (event.type === 'synced') this.configMaps.clear();
      for (const cm of objects) {
        const key = `ConfigMap ${keyOf(cm)}`;
        if (deleted) this.#forget(key, this.configMaps);
        else errors.push(...this.#set(key, this.configMaps, configMapChecks(cm)));
      }
      return errors;
    }
    const touched = new Set<string>();
    if (kind === 'services') {
      if (event.type === 'synced') {
        for (const k of this.services.keys()) touched.add(k);
        this.services.clear();
      }
      for (const svc of objects) {
        touched.add(keyOf(svc));
        if (deleted || !hasCheckAnnotation(svc)) this.services.delete(keyOf(svc));
        else this.services.set(keyOf(svc), svc);
      }
    } else {
      if (event.type === 'synced') {
        this.slices.clear();
        for (const k of this.services.keys()) touched.add(k);
      }
      for (const slice of objects) {
        const service = slice.metadata.labels?.[serviceNameLabel];
        if (!service) continue;
        const svcKey = `${slice.metadata.namespace ?? ''}/${service}`;
        touched.add(svcKey);
        const of = this.slices.get(svcKey) ?? new Map<string, Watched>();
        if (deleted) of.delete(keyOf(slice));
        else of.set(keyOf(slice), slice);
        if (of.size > 0) this.slices.set(svcKey, of);
        else this.slices.delete(svcKey);
      }
    }
    for (const svcKey of touched) {
      const key = `Service ${svcKey}`;
      const svc = this.services.get(svcKey);
      if (!svc) {
        this.#forget(key, this.serviceConfigs);
        continue;
      }
      const slices = [...(this.slices.get(svcKey)?.values() ?? [])];
      errors.push(
        ...this.#set(key, this.serviceConfigs, serviceChecks(svc, targetsOfSlices(slices))),
      );
    }
    return errors;
  }

  /** Every config, ConfigMaps then Services, each in name order. */
  configs(): CheckConfig[] {
    const sorted = (m: Map<string, SourceConfigs>): CheckConfig[] =>
      [...m.keys()].sort().flatMap((k) => m.get(k)!.configs);
    return [...sorted(this.configMaps), ...sorted(this.serviceConfigs)];
  }

  #set(key: string, into: Map<string, SourceConfigs>, configs: SourceConfigs): FathomError[] {
    into.set(key, configs);
    const before = this.#reported.get(key) ?? new Set<string>();
    this.#reported.set(key, new Set(configs.errors.map((e) => e.message)));
    return configs.errors.filter((e) => !before.has(e.message));
  }

  #forget(key: string, from: Map<string, SourceConfigs>): void {
    from.delete(key);
    this.#reported.delete(key);
  }
}

/**
 * Watches the cluster's check sources until the signal aborts: first everything (once every
 * informer has listed), then each change by digest. Bad sources and watch failures are errors
 * in the changes, never the end of the watch.
 */
export async function* watchKubeCheckSources(
  options: KubeCheckSourcesOptions,
): AsyncGenerator<CheckConfigChange, void, undefined> {
  const { client, namespace, clock } = options;
  if (options.signal.aborted) return;
  const stop = new AbortController();
  const onAbort = (): void => stop.abort();
  options.signal.addEventListener('abort', onAbort, { once: true });
  const queue = new AsyncQueue<Tagged>();
  const watches: [Kind, string, string | undefined][] = [
    ['configmaps', resourcePath('', 'configmaps', namespace), checksLabel],
    ['services', resourcePath('', 'services', namespace), undefined],
    ['endpointslices', slicesPath(namespace), serviceNameLabel],
  ];
  const pumps = watches.map(async ([kind, path, labelSelector]) => {
    for await (const event of watchObjects<Watched>({
      client,
      path,
      clock,
      signal: stop.signal,
      what: `watching ${kind} for check configs`,
      ...(labelSelector ? { labelSelector } : {}),
      ...(options.backoff ? { backoff: options.backoff } : {}),
    })) {
      queue.push({ kind, event });
    }
  });
  void Promise.allSettled(pumps).then(() => queue.end());

  const sources = new Sources();
  const set = new ConfigSet();
  const synced = new Set<Kind>();
  let waiting: FathomError[] = [];
  let started = false;
  try {
    for await (const tagged of queue.drain(stop.signal)) {
      waiting.push(...sources.apply(tagged));
      if (tagged.event.type === 'synced') synced.add(tagged.kind);
      if (synced.size < watches.length) continue; // not the whole picture yet
      const change = set.replace(sources.configs(), waiting);
      waiting = [];
      if (!started || !isEmptyChange(change)) yield change;
      started = true;
    }
  } finally {
    options.signal.removeEventListener('abort', onAbort);
    stop.abort();
  }
}
