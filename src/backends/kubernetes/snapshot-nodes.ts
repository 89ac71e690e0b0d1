/**
 * The fan-out parts of the snapshot: each node's kubelet `configz` and `healthz` through the API
 * server's node proxy, and the container logs of a namespace's pods. Unlike Sonobuoy, which stops
 * at the first node or log that fails, every node and container is tried; the failures are
 * summed up in the one query-time row (`Nodes`, `PodLogs`).
 */
import { mkdir, open, writeFile } from 'node:fs/promises';
import type { IncomingMessage } from 'node:http';
import { dirname, join } from 'node:path';
import { messageOf } from '../../core/errors.js';
import type { PodLogLimits } from '../../snapshot/config.js';
import { hostFile, podLogFile } from '../../snapshot/layout.js';
import { failureSummary } from '../../snapshot/plan.js';
import type { Query } from './api/client.js';
import { readBody, type SnapshotFetcher } from './snapshot-fetch.js';

/** A kubelet's /configz is a few KiB; anything much larger is not one. */
const MAX_CONFIGZ_BYTES = 4 * 1024 * 1024;

export interface FanOutContext {
  /** For the node proxy: a fetcher with a limiter of its own, since it waits on kubelets. */
  readonly fetcher: SnapshotFetcher;
  readonly root: string;
}

async function writeAt(root: string, rel: string, text: string): Promise<void> {
  const file = join(root, rel);
  await mkdir(dirname(file), { recursive: true });
  await writeFile(file, text);
}

/** Go's json.Marshal of a map: keys sorted at every level (Sonobuoy re-encodes configz so). */
export function sortedKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortedKeys);
  if (value === null || typeof value !== 'object') return value;
  const obj = value as Record<string, unknown>;
  return Object.fromEntries(
    Object.keys(obj)
      .sort()
      .map((k) => [k, sortedKeys(obj[k])]),
  );
}

/**
 * `hosts/<node>/configz.json` and `healthz.json` for every node, both endpoints tried even when
 * one fails. Resolves to the `Nodes` row's error, if any node failed.
 */
export async function collectHosts(
  ctx: FanOutContext,
  nodes: readonly string[],
): Promise<string | undefined> {
  const failures: { name: string; error: string }[] = [];
  await Promise.all(
    nodes.map(async (node) => {
      const proxy = `/api/v1/nodes/${encodeURIComponent(node)}/proxy`;
      const errors: string[] = [];
      const call = async (endpoint: 'configz' | 'healthz'): Promise<void> => {
        try {
          const text = await ctx.fetcher.stream(
            `${proxy}/${endpoint}`,
            `reading ${endpoint} of node ${node}`,
            async (res: IncomingMessage) =>
              endpoint === 'configz'
                ? JSON.stringify(sortedKeys(JSON.parse(await readBody(res, MAX_CONFIGZ_BYTES))))
                : JSON.stringify({ status: res.statusCode ?? 0 }),
          );
          await writeAt(ctx.root, hostFile(node, endpoint), text);
        } catch (err) {
          errors.push(messageOf(err));
        }
      };
      await Promise.all([call('configz'), call('healthz')]);
      if (errors.length > 0) failures.push({ name: node, error: errors.join('; ') });
    }),
  );
  failures.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return failureSummary('nodes', nodes.length, failures);
}

interface PodJson {
  readonly metadata?: {
    readonly name?: string;
    readonly namespace?: string;
    readonly uid?: string;
  };
  readonly spec?: { readonly containers?: readonly { readonly name: string }[] };
  readonly status?: { readonly phase?: string; readonly reason?: string };
}

/** The log request's query, from Sonobuoy's Limits.PodLogs (PodLogOptions). */
export function podLogQuery(limits: PodLogLimits, container: string): Query {
  return {
    container,
    ...(limits.Previous ? { previous: true } : {}),
    ...(limits.SinceSeconds !== null ? { sinceSeconds: limits.SinceSeconds } : {}),
    ...(limits.SinceTime !== null ? { sinceTime: limits.SinceTime } : {}),
    ...(limits.Timestamps ? { timestamps: true } : {}),
    ...(limits.TailLines !== null ? { tailLines: limits.TailLines } : {}),
    ...(limits.LimitBytes !== null ? { limitBytes: limits.LimitBytes } : {}),
  };
}

/** Streams a body into a file, stopping at `limit` bytes (in case the server sends more). */
async function saveBody(res: IncomingMessage, path: string, limit: number | null): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const file = await open(path, 'w');
  try {
    let left = limit ?? Infinity;
    for await (const chunk of res as AsyncIterable<Buffer>) {
      const part = chunk.length > left ? chunk.subarray(0, left) : chunk;
      await file.write(part);
      left -= part.length;
      if (left <= 0) break;
    }
  } finally {
    await file.close();
  }
}

export interface PodLogSelection {
  /** A namespace, or undefined for the field selectors' pass across namespaces. */
  readonly namespace?: string;
  readonly limits: PodLogLimits;
  /** Pod UIDs done already: the passes overlap, each pod is read once. */
  readonly visited: Set<string>;
}

/** Lists the pods of one PodLogs query (label selector, and the field selector if any). */
async function podsOf(
  ctx: FanOutContext,
  sel: PodLogSelection,
  fieldSelector?: string,
): Promise<PodJson[]> {
  const path =
    sel.namespace === undefined
      ? '/api/v1/pods'
      : `/api/v1/namespaces/${encodeURIComponent(sel.namespace)}/pods`;
  const where = sel.namespace === undefined ? `matching ${fieldSelector}` : `in ${sel.namespace}`;
  const query: Query = {
    ...(sel.limits.LabelSelector ? { labelSelector: sel.limits.LabelSelector } : {}),
    ...(fieldSelector ? { fieldSelector } : {}),
  };
  const { items } = await ctx.fetcher.list(path, `listing pods ${where} for their logs`, query);
  return items as PodJson[];
}

/**
 * `podlogs/<ns>/<pod>/logs/<container>.txt` for every container of the selected pods (evicted
 * pods skipped, as in Sonobuoy). Resolves to the `PodLogs` row's error, if any.
 */
export async function collectPodLogs(
  ctx: FanOutContext,
  sel: PodLogSelection,
): Promise<string | undefined> {
  const pods: PodJson[] = [];
  const listErrors: string[] = [];
  const passes = sel.namespace === undefined ? sel.limits.FieldSelectors : [undefined];
  for (const fieldSelector of passes) {
    try {
      pods.push(...(await podsOf(ctx, sel, fieldSelector)));
    } catch (err) {
      listErrors.push(messageOf(err));
    }
  }
  const targets: { ns: string; pod: string; container: string }[] = [];
  for (const p of pods) {
    const uid = p.metadata?.uid ?? `${p.metadata?.namespace}/${p.metadata?.name}`;
    if (sel.visited.has(uid)) continue;
    sel.visited.add(uid);
    if (p.status?.phase === 'Failed' && p.status.reason === 'Evicted') continue;
    for (const c of p.spec?.containers ?? []) {
      targets.push({
        ns: p.metadata?.namespace ?? '',
        pod: p.metadata?.name ?? '',
        container: c.name,
      });
    }
  }
  const failures: { name: string; error: string }[] = [];
  await Promise.all(
    targets.map(async (t) => {
      try {
        const file = join(ctx.root, podLogFile(t.ns, t.pod, t.container));
        await ctx.fetcher.stream(
          `/api/v1/namespaces/${encodeURIComponent(t.ns)}/pods/${encodeURIComponent(t.pod)}/log`,
          `reading the log of container ${t.container} of pod ${t.ns}/${t.pod}`,
          (res) => saveBody(res, file, sel.limits.LimitBytes),
          podLogQuery(sel.limits, t.container),
        );
      } catch (err) {
        failures.push({ name: `${t.pod}/${t.container}`, error: messageOf(err) });
      }
    }),
  );
  failures.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const logs = failureSummary('container logs', targets.length, failures);
  return [...listErrors, ...(logs ? [logs] : [])].join('; ') || undefined;
}
