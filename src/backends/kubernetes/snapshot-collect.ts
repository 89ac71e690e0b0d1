/**
 * Runs the snapshot's queries (planned in snapshot.ts) against the API server, a few at a time,
 * and writes their answers and meta/query-time.json under a results root. A query that fails
 * (forbidden, timed out, an unknown kind) becomes an `error` in its record; the run goes on.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Logger } from 'pino';
import type { Clock } from '../../core/clock.js';
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

export interface CollectSnapshotOptions {
  readonly client: KubeClient;
  /** The results root the tarball is packed from. */
  readonly root: string;
  /** Namespaces whose namespaced kinds are listed (the run's and kube-system). */
  readonly namespaces: readonly string[];
  readonly kinds?: readonly SnapshotKind[];
  readonly clock: Clock;
  readonly concurrency?: number;
  readonly logger?: Logger;
}

/** The answer to write for a query; undefined when there is nothing to write (an empty list). */
async function answer(client: KubeClient, q: SnapshotQuery): Promise<unknown> {
  switch (q.type) {
    case 'serverversion':
      return client.get('/version', 'reading the API server version');
    case 'servergroups': {
      const [api, apis] = await Promise.all([
        client.get<{ versions?: string[] }>('/api', 'reading the core API versions'),
        client.get<{ groups?: [] }>('/apis', 'reading the API groups'),
      ]);
      return serverGroups(api, apis);
    }
    case 'list': {
      const where = q.namespace === undefined ? '' : ` in namespace ${q.namespace}`;
      const list = await client.list(q.path, `listing ${q.queryobj}${where}`);
      return list.items.length > 0 ? listFileItems(q.kind, list.items) : undefined;
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
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < plan.length) {
      const i = next++;
      const q = plan[i]!;
      const started = clock.now();
      try {
        const body = await answer(client, q);
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
      }
    }
  };
  const width = Math.max(1, Math.min(options.concurrency ?? SNAPSHOT_CONCURRENCY, plan.length));
  await Promise.all(Array.from({ length: width }, worker));
  await mkdir(join(root, 'meta'), { recursive: true });
  await writeFile(join(root, QUERY_TIME_FILE), `${JSON.stringify(records, null, 2)}\n`);
  return records;
}
