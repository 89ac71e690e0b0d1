/**
 * Writes `meta/clusterhealth.json` into a results root after the snapshot, as Sonobuoy's
 * aggregator does before it packs the tarball. Both backends call it; it never throws: a root
 * whose nodes file cannot be read gets no file (as in Sonobuoy), and the reason is returned.
 */
import { createReadStream } from 'node:fs';
import { lstat, mkdir, readdir, writeFile } from 'node:fs/promises';
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
    const names = await readdir(join(root, rel)).catch(() => [] as string[]);
    names.sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
    for (const name of names) {
      const path = rel === '' ? name : `${rel}/${name}`;
      const st = await lstat(join(root, path)).catch(() => undefined);
      if (st?.isDirectory()) await visit(path);
      else if (st?.isFile()) out.push(path);
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
    const logHits = new Map<string, LogHits>();
    for (const path of paths.filter(isPodLog)) {
      const hits = await scanLog(join(root, path)).catch(() => undefined);
      if (hits) logHits.set(path, hits);
    }
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
