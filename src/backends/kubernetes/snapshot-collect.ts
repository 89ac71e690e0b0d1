/**
 * Collects Sonobuoy's cluster snapshot from the API server into a results root (planned in
 * src/snapshot/plan.ts, laid out as src/snapshot/layout.ts says): discovery picks the resources,
 * then the queries run several at a time under one limiter, and meta/query-time.json records
 * each in Sonobuoy's order with its duration and, instead of failing the run, its error.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Logger } from 'pino';
import type { Clock } from '../../core/clock.js';
import { messageOf } from '../../core/errors.js';
import { DEFAULT_SNAPSHOT_CONFIG, wants, type SnapshotConfig } from '../../snapshot/config.js';
import {
  apiVersionOf,
  listDocument,
  QUERY_TIME_FILE,
  queryRecord,
  SERVER_GROUPS_FILE,
  SERVER_VERSION_FILE,
  type QueryRecord,
} from '../../snapshot/layout.js';
import {
  discoveredGroups,
  matchNamespaces,
  planSnapshot,
  podLogNamespacePattern,
  preferredResources,
  selectResources,
  serverGroups,
  type DiscoveredResource,
  type SnapshotQuery,
  type SnapshotResource,
} from '../../snapshot/plan.js';
import type { KubeClient } from './api/client.js';
import { Limiter, SnapshotFetcher } from './snapshot-fetch.js';
import { collectHosts, collectPodLogs } from './snapshot-nodes.js';

/** Requests in flight at once, well under Sonobuoy's client limits (QPS 30, burst 50). */
export const SNAPSHOT_CONCURRENCY = 8;
/** Node-proxy requests in flight: they wait on kubelets, so they get a limiter of their own. */
export const SNAPSHOT_NODE_CONCURRENCY = 32;
/** Per request, as Sonobuoy's node proxy calls (the client has no timeout by default). */
export const SNAPSHOT_QUERY_TIMEOUT_MS = 30_000;

export interface CollectSnapshotOptions {
  readonly client: KubeClient;
  /** The results root the tarball is packed from. */
  readonly root: string;
  readonly clock: Clock;
  readonly logger?: Logger;
  /** What to collect (Sonobuoy's Resources, Filters, Limits); Sonobuoy's defaults otherwise. */
  readonly config?: SnapshotConfig;
  /** The run's namespace: its pods' logs are read when Limits.PodLogs.SonobuoyNamespace. */
  readonly namespace?: string;
  readonly concurrency?: number;
  readonly nodeConcurrency?: number;
  /** Per request, on `clock`. */
  readonly queryTimeoutMs?: number;
}

interface ApiVersions {
  readonly versions?: string[];
}
interface ApiGroupList {
  readonly groups?: {
    name: string;
    versions: { groupVersion: string; version: string }[];
    preferredVersion?: { groupVersion: string; version: string };
  }[];
}
interface ResourceList {
  readonly resources?: DiscoveredResource[];
}

const names = (items: readonly unknown[]): string[] =>
  items.map((i) => (i as { metadata?: { name?: string } }).metadata?.name ?? '');

async function writeJson(root: string, rel: string, value: unknown): Promise<void> {
  const file = join(root, rel);
  await mkdir(dirname(file), { recursive: true });
  await writeFile(file, JSON.stringify(value));
}

/** Secrets are written only when named, and never with their values. */
function withoutSecretData(r: SnapshotResource, items: unknown[]): unknown[] {
  if (!(r.group === '' && r.resource === 'secrets')) return items;
  return items.map((i) => {
    const { data: _d, stringData: _s, ...rest } = i as Record<string, unknown>;
    return rest;
  });
}

/** Collects the snapshot; resolves to the query-time.json rows (also written), in plan order. */
export async function collectClusterSnapshot(
  options: CollectSnapshotOptions,
): Promise<QueryRecord[]> {
  const { client, root, clock, logger } = options;
  const config = options.config ?? DEFAULT_SNAPSHOT_CONFIG;
  const timeoutMs = options.queryTimeoutMs ?? SNAPSHOT_QUERY_TIMEOUT_MS;
  const fetcher = new SnapshotFetcher(
    client,
    clock,
    new Limiter(options.concurrency ?? SNAPSHOT_CONCURRENCY),
    timeoutMs,
  );
  const nodeFetcher = new SnapshotFetcher(
    client,
    clock,
    new Limiter(options.nodeConcurrency ?? SNAPSHOT_NODE_CONCURRENCY),
    timeoutMs,
  );
  const runNs = options.namespace;
  const extra: QueryRecord[] = [];

  // Discovery: the groups, then every group-version's resources (one that fails is left out).
  const discovery = (async () => {
    const started = clock.now();
    try {
      const [api, apis] = await Promise.all([
        fetcher.json<ApiVersions>('/api', 'reading the core API versions'),
        fetcher.json<ApiGroupList>('/apis', 'reading the API groups'),
      ]);
      const groups = discoveredGroups(api, apis);
      const lists = new Map<string, DiscoveredResource[]>();
      const failed: string[] = [];
      await Promise.all(
        groups.flatMap((g) =>
          g.versions.map(async (v) => {
            const gv = apiVersionOf(g.name, v);
            const path = g.name === '' ? `/api/${v}` : `/apis/${gv}`;
            try {
              const list = await fetcher.json<ResourceList>(path, `discovering ${gv}`);
              lists.set(gv, list.resources ?? []);
            } catch (err) {
              failed.push(messageOf(err));
            }
          }),
        ),
      );
      if (failed.length > 0) {
        logger?.warn({ errors: failed }, 'snapshot: some API groups could not be discovered');
      }
      return preferredResources(groups, lists);
    } catch (err) {
      // Sonobuoy gives up on the whole snapshot here; fathom records why and goes on.
      extra.push(queryRecord('discovery', undefined, clock.now() - started, messageOf(err)));
      return [];
    }
  })();
  const needNamespaces =
    config.Resources === null ||
    config.Resources.some((r) => r !== 'nodes') ||
    wants(config, 'podlogs');
  const namespaces = needNamespaces
    ? fetcher.list('/api/v1/namespaces', 'listing namespaces').then(
        (l) => names(l.items),
        (err: unknown) => {
          // As Sonobuoy: without the list, at least the run's own namespace.
          logger?.warn({ error: messageOf(err) }, 'snapshot: cannot list namespaces');
          return runNs !== undefined ? [runNs] : [];
        },
      )
    : Promise.resolve([]);

  const { cluster, namespaced } = selectResources(await discovery, config);
  const allNs = await namespaces;
  const plan = planSnapshot({
    config,
    cluster,
    namespaced,
    namespaces: matchNamespaces(allNs, config.Filters.Namespaces),
    podLogNamespaces: matchNamespaces(allNs, podLogNamespacePattern(config, runNs)),
  });

  const listQuery = config.Filters.LabelSelector
    ? { labelSelector: config.Filters.LabelSelector }
    : {};
  const visited = new Set<string>();
  const run = async (q: SnapshotQuery): Promise<void> => {
    switch (q.type) {
      case 'hosts': {
        const nodes = await fetcher.list(
          '/api/v1/nodes',
          'listing nodes for their configz and healthz',
        );
        const error = await collectHosts({ fetcher: nodeFetcher, root }, names(nodes.items));
        if (error !== undefined) throw new Error(error);
        return;
      }
      case 'list': {
        const where = q.namespace === undefined ? '' : ` in namespace ${q.namespace}`;
        const { items, resourceVersion } = await fetcher.list(
          q.path,
          `listing ${q.resource.resource}${where}`,
          listQuery,
        );
        // As Sonobuoy: a file only for a non-empty list.
        if (items.length > 0) {
          const doc = listDocument(
            q.resource,
            withoutSecretData(q.resource, items),
            resourceVersion,
          );
          await writeJson(root, q.file, doc);
        }
        return;
      }
      case 'serverversion':
        await writeJson(
          root,
          SERVER_VERSION_FILE,
          await fetcher.json('/version', 'reading the server version'),
        );
        return;
      case 'servergroups': {
        const [api, apis] = await Promise.all([
          fetcher.json<ApiVersions>('/api', 'reading the core API versions'),
          fetcher.json<ApiGroupList>('/apis', 'reading the API groups'),
        ]);
        await writeJson(root, SERVER_GROUPS_FILE, serverGroups(api, apis));
        return;
      }
      case 'podlogs': {
        const error = await collectPodLogs(
          { fetcher, root },
          {
            ...(q.namespace !== undefined ? { namespace: q.namespace } : {}),
            limits: config.Limits.PodLogs,
            visited,
          },
        );
        if (error !== undefined) throw new Error(error);
        return;
      }
    }
  };

  const records = new Array<QueryRecord>(plan.length);
  const timed = async (i: number): Promise<void> => {
    const q = plan[i]!;
    const started = clock.now();
    try {
      await run(q);
      records[i] = queryRecord(
        q.queryobj,
        'namespace' in q ? q.namespace : undefined,
        clock.now() - started,
      );
    } catch (err) {
      const message = messageOf(err);
      logger?.warn(
        {
          query: q.queryobj,
          namespace: 'namespace' in q ? q.namespace : undefined,
          error: message,
        },
        'snapshot query failed',
      );
      records[i] = queryRecord(
        q.queryobj,
        'namespace' in q ? q.namespace : undefined,
        clock.now() - started,
        message,
      );
    }
  };
  // Every query starts at once and waits in the limiter for its requests. The pod-log passes run
  // one after the other: each skips the pods an earlier one read.
  const indices = plan.map((_, i) => i);
  const logPasses = indices.filter((i) => plan[i]!.type === 'podlogs');
  await Promise.all([
    ...indices.filter((i) => plan[i]!.type !== 'podlogs').map(timed),
    (async () => {
      for (const i of logPasses) await timed(i);
    })(),
  ]);
  const all = [...extra, ...records];
  await mkdir(join(root, 'meta'), { recursive: true });
  await writeFile(join(root, QUERY_TIME_FILE), JSON.stringify(all));
  return all;
}
