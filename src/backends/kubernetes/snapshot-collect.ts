/**
 * Runs the snapshot's queries (planned in snapshot.ts) against the API server, a few at a time,
 * and writes their answers and meta/query-time.json under a results root. A query that fails
 * (forbidden, timed out, an unknown kind) becomes an `error` in its record; the run goes on.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Logger } from 'pino';
import type { Clock } from '../../core/clock.js';
import { formatDuration } from '../../core/duration.js';
import { messageOf } from '../../core/errors.js';
import type { KubeClient } from './api/client.js';
import {
  DEFAULT_SNAPSHOT_KINDS,
  listFileItems,
  planSnapshot,
  QUERY_TIME_FILE,
  queryRecord,
  serverGroups,
  type QueryRecord,
  type SnapshotKind,
  type SnapshotQuery,
} from './snapshot.js';

/** Queries in flight at once: well under the API server's default client limits (QPS 30 / burst 50 in Sonobuoy). */
export const SNAPSHOT_CONCURRENCY = 4;

/** A query with no answer by then is recorded as timed out (the client has no timeout by default). */
export const SNAPSHOT_QUERY_TIMEOUT_MS = 30_000;

/** A page of a list answer. */
interface ListPage {
  readonly items?: unknown[];
  readonly metadata?: { readonly continue?: string };
}

export interface CollectSnapshotOptions {
  readonly client: KubeClient;
  /** The results root the tarball is packed from. */
  readonly root: string;
  /** Namespaces whose namespaced kinds are listed (the run's and kube-system). */
  readonly namespaces: readonly string[];
  readonly kinds?: readonly SnapshotKind[];
  readonly clock: Clock;
  readonly concurrency?: number;
  /** Per query, on `clock`. */
  readonly queryTimeoutMs?: number;
  readonly logger?: Logger;
}

/** Every item of a list, page by page, until `signal` aborts. */
async function listAll(
  client: KubeClient,
  path: string,
  what: string,
  signal: AbortSignal,
): Promise<unknown[]> {
  const items: unknown[] = [];
  let cont: string | undefined;
  do {
    const page = await client.request<ListPage>('GET', path, what, {
      query: { limit: 500, ...(cont ? { continue: cont } : {}) },
      signal,
    });
    items.push(...(page.items ?? []));
    cont = page.metadata?.continue || undefined;
  } while (cont);
  return items;
}

/** The answer to write for a query; undefined when there is nothing to write (an empty list). */
async function answer(client: KubeClient, q: SnapshotQuery, signal: AbortSignal): Promise<unknown> {
  const get = <T>(path: string, what: string): Promise<T> =>
    client.request<T>('GET', path, what, { signal });
  switch (q.type) {
    case 'serverversion':
      return get('/version', 'reading the API server version');
    case 'servergroups': {
      const [api, apis] = await Promise.all([
        get<{ versions?: string[] }>('/api', 'reading the core API versions'),
        get<{ groups?: [] }>('/apis', 'reading the API groups'),
      ]);
      return serverGroups(api, apis);
    }
    case 'list': {
      const where = q.namespace === undefined ? '' : ` in namespace ${q.namespace}`;
      const items = await listAll(client, q.path, `listing ${q.queryobj}${where}`, signal);
      return items.length > 0 ? listFileItems(q.kind, items) : undefined;
    }
  }
}

/** Collects the snapshot; resolves to the query-time.json rows (also written), in plan order. */
export async function collectClusterSnapshot(
  options: CollectSnapshotOptions,
): Promise<QueryRecord[]> {
  const { client, root, clock } = options;
  const plan = planSnapshot(options.kinds ?? DEFAULT_SNAPSHOT_KINDS, options.namespaces);
  const records: QueryRecord[] = new Array<QueryRecord>(plan.length);
  const timeoutMs = options.queryTimeoutMs ?? SNAPSHOT_QUERY_TIMEOUT_MS;
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < plan.length) {
      const i = next++;
      const q = plan[i]!;
      const started = clock.now();
      const timeout = new AbortController();
      const finished = new AbortController();
      clock.sleep(timeoutMs, finished.signal).then(
        () => timeout.abort(new Error(`no answer within ${formatDuration(timeoutMs)}`)),
        () => undefined,
      );
      try {
        const body = await answer(client, q, timeout.signal);
        if (body !== undefined) {
          const file = join(root, q.file);
          await mkdir(dirname(file), { recursive: true });
          await writeFile(file, JSON.stringify(body));
        }
        records[i] = queryRecord(q, clock.now() - started);
      } catch (err) {
        const message = messageOf(err);
        options.logger?.warn({ query: q.queryobj, error: message }, 'snapshot query failed');
        records[i] = queryRecord(q, clock.now() - started, message);
      } finally {
        finished.abort();
      }
    }
  };
  const width = Math.max(1, Math.min(options.concurrency ?? SNAPSHOT_CONCURRENCY, plan.length));
  await Promise.all(Array.from({ length: width }, worker));
  await mkdir(join(root, 'meta'), { recursive: true });
  await writeFile(join(root, QUERY_TIME_FILE), `${JSON.stringify(records, null, 2)}\n`);
  return records;
}
