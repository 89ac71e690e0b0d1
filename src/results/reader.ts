/**
 * The one reader of a run's results, for the CLI, the HTML report and the dashboard: a results
 * tarball or its extracted directory, opened within limits; its plugins, each plugin's tree, the
 * cluster health and run meta files, and the files the trees name (leaf files).
 *
 * A tarball is read in one streaming pass that keeps only the files asked for (the run's meta
 * files and the plugins' sonobuoy_results.yaml), none larger than fathom reads; `loadLeafFiles`
 * reads it once more for the files the trees name, and nothing else. Files are handed out in
 * pieces, so memory does not grow with their size (archive.ts says where they wait).
 * Nothing here imports the yaml or tar packages (the CLI's start-up test keeps it so).
 */
import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import { FathomError } from '../core/errors.js';
import { readArchive, type ArchiveLimits, type KeepFile, type ResultsArchive } from './archive.js';
import { CORE_NODES_FILE, SERVER_VERSION_FILE } from '../snapshot/layout.js';
import { clusterSummaryOf, type ClusterSummaryView } from './cluster.js';
import { toClusterHealth, type ClusterHealth } from './health.js';
import type { Item } from './item.js';
import {
  detailedLeaves,
  MAX_INFO_BYTES,
  readPluginResults,
  readRunInfo,
  readRunResults,
  resolveLeafFile,
  resolveLeafPath,
  RESULTS_FILE_NAME,
  type ResultsRoot,
  type RunResults,
} from './read.js';
import { DEFAULT_MAX_YAML_BYTES } from './yamlfast.js';

/** The cluster health pseudo-plugin is named `sonobuoy`, as in Sonobuoy. */
export const HEALTH_PLUGIN = 'sonobuoy';
export const HEALTH_FILE = 'meta/clusterhealth.json';
export const CONFIG_FILE = 'meta/config.json';
export const INFO_FILE = 'meta/info.json';
export const MAX_HEALTH_BYTES = 64 * 1024 * 1024;
export const MAX_CONFIG_BYTES = 16 * 1024 * 1024;
/** Far above the node list of a 5,000-node cluster. */
export const MAX_SNAPSHOT_LIST_BYTES = 256 * 1024 * 1024;

/** Text in pieces, to be used as they come. */
export type Pieces = Iterable<string> | AsyncIterable<string>;

/** What the run's `meta/config.json` says about it, when present. */
export interface RunMeta {
  uuid?: string;
  version?: string;
  namespace?: string;
}

/** `meta/clusterhealth.json`: the file as written, and its summary or why it cannot be read. */
export interface HealthFile {
  raw: string;
  value?: ClusterHealth;
  error?: FathomError;
}

export interface OpenReaderOptions {
  /** Only this plugin is read (of a tarball, only its files are kept). */
  plugin?: string;
  /** Keep `meta/config.json` too (`runMeta`); the text outputs never read it. */
  runMeta?: boolean;
  /** Keep the snapshot's nodes and server version too (`clusterSummary`). */
  cluster?: boolean;
  /** What a tarball may hold in memory (tests lower them). */
  limits?: ArchiveLimits;
}

function invalid(message: string, details: Record<string, unknown> = {}): FathomError {
  return new FathomError('FATHOM_RESULTS_INVALID', message, { details });
}

/** A file in pieces, decoding UTF-8 across their boundaries. */
export async function* fileText(path: string): AsyncGenerator<string> {
  const decoder = new StringDecoder('utf8');
  for await (const chunk of createReadStream(path)) yield decoder.write(chunk as Buffer);
  const tail = decoder.end();
  if (tail) yield tail;
}

/** What is at `rel` (a file and its size), or nothing; like fs.stat on the extracted tree. */
async function statOf(root: ResultsRoot, rel: string): Promise<{ size: number } | undefined> {
  if (typeof root !== 'string') {
    const st = root.stat(rel);
    return st?.isFile ? st : undefined;
  }
  try {
    const st = await stat(join(root, rel));
    return st.isFile() ? st : undefined;
  } catch {
    return undefined;
  }
}

async function readText(root: ResultsRoot, rel: string): Promise<string> {
  return typeof root === 'string' ? readFile(join(root, rel), 'utf8') : root.readText(rel);
}

/**
 * The files of a tarball a reader keeps (by path relative to the run's root), each with the most
 * of it that is ever read: a larger one is refused by its reader, so never stored.
 */
function wantedFiles(o: OpenReaderOptions): KeepFile {
  return (rel) => {
    if (rel === INFO_FILE) return MAX_INFO_BYTES;
    if (rel === HEALTH_FILE) return MAX_HEALTH_BYTES;
    if (rel === CONFIG_FILE) return !!o.runMeta && MAX_CONFIG_BYTES;
    if (rel === CORE_NODES_FILE || rel === SERVER_VERSION_FILE) {
      return !!o.cluster && MAX_SNAPSHOT_LIST_BYTES;
    }
    if (!rel.startsWith('plugins/')) return false;
    const slash = rel.indexOf('/', 'plugins/'.length);
    if (slash === -1 || (o.plugin !== undefined && rel.slice(8, slash) !== o.plugin)) return false;
    return rel.slice(slash + 1) === RESULTS_FILE_NAME && DEFAULT_MAX_YAML_BYTES;
  };
}

/** An opened run's results; `close` frees what a tarball holds in memory. */
export class ResultsReader {
  #files: ResultsArchive | undefined;
  #health: Promise<HealthFile | undefined> | undefined;

  private constructor(
    /** The tarball or directory as given. */
    readonly path: string,
    /** The extracted directory, or the tarball's kept files. */
    readonly root: ResultsRoot,
    private readonly limits: ArchiveLimits,
    private readonly plugin: string | undefined,
  ) {}

  /** Opens a tarball (read within `limits`) or an extracted directory. */
  static async open(path: string, options: OpenReaderOptions = {}): Promise<ResultsReader> {
    let isDir: boolean;
    try {
      isDir = (await stat(path)).isDirectory();
    } catch (err) {
      throw new FathomError('FATHOM_RESULTS_NOT_FOUND', `${path}: no such file or directory`, {
        cause: err,
        details: { path },
      });
    }
    const limits = options.limits ?? {};
    const { plugin } = options;
    if (isDir) return new ResultsReader(path, resolve(path), limits, plugin);
    const archive = await readArchive(path, wantedFiles(options), limits);
    return new ResultsReader(path, archive, limits, plugin);
  }

  /** The run's plugins in `meta/info.json` order; empty when it names none. */
  plugins(): Promise<string[]> {
    return readRunInfo(this.root);
  }

  /** A plugin's processed tree, checked (FATHOM_RESULTS_INVALID saying why it cannot be read). */
  pluginTree(plugin: string): Promise<Item> {
    return readPluginResults(this.root, plugin);
  }

  /**
   * Every plugin (or the one opened for) with its tree or why it cannot be read, as a report or
   * dashboard shows them; throws when the run names no plugin.
   */
  runResults(): Promise<RunResults> {
    return readRunResults(this.root, this.plugin === undefined ? {} : { plugin: this.plugin });
  }

  /** A plugin's `sonobuoy_results.yaml` as written, in pieces (check it with `pluginTree`). */
  pluginFileText(plugin: string): Pieces {
    const rel = `plugins/${plugin}/${RESULTS_FILE_NAME}`;
    return typeof this.root === 'string' ? fileText(join(this.root, rel)) : this.root.chunks(rel);
  }

  /** `meta/clusterhealth.json`, or undefined when the run has none; read once. */
  health(): Promise<HealthFile | undefined> {
    this.#health ??= this.#readHealth();
    return this.#health;
  }

  async #readHealth(): Promise<HealthFile | undefined> {
    const st = await statOf(this.root, HEALTH_FILE);
    if (!st) return undefined;
    if (st.size > MAX_HEALTH_BYTES) {
      return { raw: '', error: invalid(`${HEALTH_FILE}: larger than ${MAX_HEALTH_BYTES} bytes`) };
    }
    const raw = await readText(this.root, HEALTH_FILE);
    try {
      return { raw, value: toClusterHealth(JSON.parse(raw)) };
    } catch (err) {
      return { raw, error: invalid(`${HEALTH_FILE}: ${(err as Error).message}`) };
    }
  }

  /**
   * The cluster summary of the run's snapshot (of a tarball, only when opened with `cluster`),
   * or undefined when it has none; FATHOM_RESULTS_INVALID when a file is not JSON or too large.
   */
  async clusterSummary(): Promise<ClusterSummaryView | undefined> {
    const text = async (rel: string): Promise<string | undefined> => {
      const st = await statOf(this.root, rel);
      if (!st) return undefined;
      if (st.size > MAX_SNAPSHOT_LIST_BYTES) {
        throw invalid(`${rel}: larger than ${MAX_SNAPSHOT_LIST_BYTES} bytes`, { file: rel });
      }
      return readText(this.root, rel);
    };
    const [nodes, serverVersion] = [await text(CORE_NODES_FILE), await text(SERVER_VERSION_FILE)];
    try {
      return clusterSummaryOf({
        ...(nodes !== undefined ? { nodes } : {}),
        ...(serverVersion !== undefined ? { serverVersion } : {}),
      });
    } catch (err) {
      throw invalid((err as Error).message, { cause: (err as Error).message });
    }
  }

  /**
   * Best effort: the run's id, namespace and writer from `meta/config.json`, for a report's title
   * (of a tarball, only when opened with `runMeta`).
   */
  async runMeta(): Promise<RunMeta> {
    try {
      const st = await statOf(this.root, CONFIG_FILE);
      if (!st || st.size > MAX_CONFIG_BYTES) return {};
      const c = JSON.parse(await readText(this.root, CONFIG_FILE)) as Record<string, unknown>;
      const meta: RunMeta = {};
      if (typeof c.UUID === 'string') meta.uuid = c.UUID;
      if (typeof c.Version === 'string') meta.version = c.Version;
      if (typeof c.Namespace === 'string') meta.namespace = c.Namespace;
      return meta;
    } catch {
      return {};
    }
  }

  /**
   * Of a tarball: reads the files the plugins' trees name, in a second pass (trees that cannot be
   * read name none; their error comes when they are read). A directory has them all already.
   */
  async loadLeafFiles(plugins: readonly string[]): Promise<void> {
    const archive = this.root;
    if (typeof archive === 'string' || this.#files) return;
    const named = new Set<string>();
    for (const plugin of plugins) {
      const tree = await readPluginResults(archive, plugin).catch(() => undefined);
      if (!tree) continue;
      for (const leaf of detailedLeaves(tree)) {
        if (!leaf.file) continue;
        try {
          named.add(resolveLeafPath(plugin, leaf.file));
        } catch {
          // Refused again, with its error, when the leaf's file is asked for.
        }
      }
    }
    if (named.size === 0) return;
    this.#files = await readArchive(this.path, (rel) => named.has(rel), this.limits);
  }

  /**
   * A leaf's file (its `meta.file`, relative to the plugin's directory) in pieces, checked to
   * exist before any of it is handed out, as Sonobuoy does; of a tarball, after `loadLeafFiles`.
   */
  async leafFile(plugin: string, file: string): Promise<Pieces> {
    const missing = (): FathomError =>
      invalid(`failed to find file "plugins/${plugin}/${file}" in archive`, { plugin, file });
    if (typeof this.root !== 'string') {
      const files = this.#files ?? this.root;
      const rel = resolveLeafPath(plugin, file);
      if (!files.stat(rel)?.isFile) throw missing();
      return files.chunks(rel);
    }
    const path = resolveLeafFile(this.root, plugin, file);
    const st = await stat(path).catch(() => undefined);
    if (!st?.isFile()) throw missing();
    return fileText(path);
  }

  /** Frees what a tarball holds in memory (or on disk, for large files). */
  close(): void {
    this.#files?.cleanup();
    this.#files = undefined;
    if (typeof this.root !== 'string') this.root.cleanup();
  }
}
