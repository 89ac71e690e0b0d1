/**
 * Writes `meta/clusterhealth.json` into a results root after the snapshot, as Sonobuoy's
 * aggregator does before it packs the tarball. Both backends call it; it never throws: a root
 * whose nodes file cannot be read gets no file (as in Sonobuoy), and the reason is returned.
 */
import { createReadStream } from 'node:fs';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { MiB, readFileAtMost } from '../core/bounded.js';
import {
  clusterSummary,
  clusterSummaryJson,
  isPodLog,
  LogScanner,
  podListFiles,
  type LogHits,
  type RootFile,
} from './health.js';
import { CLUSTER_HEALTH_FILE, CORE_NODES_FILE, SERVER_VERSION_FILE } from './layout.js';

/** Far above a 5,000-node list; a larger file is treated as unreadable. */
const MAX_LIST_BYTES = 256 * MiB;
/** Each log is scanned up to here (the snapshot bounds what it writes far below this). */
const MAX_LOG_SCAN_BYTES = 256 * MiB;

/** Regular files under `root`, relative and `/`-separated, in filepath.Walk's lexical order. */
export async function walkFiles(root: string): Promise<string[]> {
  const out: string[] = [];
  const visit = async (rel: string): Promise<void> => {
    const entries = await readdir(join(root, rel), { withFileTypes: true }).catch(() => []);
    entries.sort((a, b) => Buffer.compare(Buffer.from(a.name), Buffer.from(b.name)));
    for (const e of entries) {
      const path = rel === '' ? e.name : `${rel}/${e.name}`;
      // Entry types as lstat gives them: a link is neither, so never followed.
      if (e.isDirectory()) await visit(path);
      else if (e.isFile()) out.push(path);
    }
  };
  await visit('');
  return out;
}

async function readText(root: string, rel: string): Promise<string> {
  const bytes = await readFileAtMost(join(root, rel), MAX_LIST_BYTES).catch(() => undefined);
  // Too large reads as unparseable: Go would try, fathom refuses to hold it.
  return bytes === undefined ? '\u0000' : bytes.toString('utf8');
}

async function scanLog(path: string): Promise<LogHits> {
  const scanner = new LogScanner();
  const stream = createReadStream(path, { end: MAX_LOG_SCAN_BYTES - 1 });
  for await (const chunk of stream) scanner.push(chunk as Buffer);
  return scanner.end();
}

export type HealthFileOutcome =
  | { readonly written: true; readonly file: string }
  | { readonly written: false; readonly error: string };

/**
 * Computes the summary from the files under `root` and writes it to meta/clusterhealth.json;
 * `onError` hears why when it writes none.
 */
export async function writeClusterHealth(
  root: string,
  onError?: (error: string) => void,
): Promise<HealthFileOutcome> {
  const outcome = await computeAndWrite(root);
  if (!outcome.written) onError?.(outcome.error);
  return outcome;
}

async function computeAndWrite(root: string): Promise<HealthFileOutcome> {
  try {
    const paths = await walkFiles(root);
    const has = new Set(paths);
    const podLists: RootFile[] = [];
    for (const path of podListFiles(paths)) {
      podLists.push({ path, text: await readText(root, path) });
    }
    const logs = paths.filter(isPodLog);
    const scanned = new Map<string, LogHits>();
    let next = 0;
    const scanner = async (): Promise<void> => {
      for (let i = next++; i < logs.length; i = next++) {
        const hits = await scanLog(join(root, logs[i]!)).catch(() => undefined);
        if (hits) scanned.set(logs[i]!, hits);
      }
    };
    // A few at once; the summary's maps are ordered by key when written, not by arrival.
    await Promise.all(Array.from({ length: 8 }, scanner));
    const logHits = new Map(logs.flatMap((p) => (scanned.has(p) ? [[p, scanned.get(p)!]] : [])));
    const summary = clusterSummary({
      ...(has.has(CORE_NODES_FILE) ? { nodes: await readText(root, CORE_NODES_FILE) } : {}),
      ...(has.has(SERVER_VERSION_FILE)
        ? { serverVersion: await readText(root, SERVER_VERSION_FILE) }
        : {}),
      podLists,
      logHits,
    });
    if (summary instanceof Error) return { written: false, error: summary.message };
    const file = join(root, CLUSTER_HEALTH_FILE);
    await mkdir(dirname(file), { recursive: true });
    await writeFile(file, clusterSummaryJson(summary), { mode: 0o644 });
    return { written: true, file };
  } catch (err) {
    return { written: false, error: (err as Error).message };
  }
}
