/**
 * The reading side of `fathom results`: pure data for the CLI to format, computed the way
 * `sonobuoy results` does (report, detailed, node filter). Nothing here prints.
 */
import { readFile, stat } from 'node:fs/promises';
import { join, posix, resolve, sep } from 'node:path';
import { FathomError } from '../core/errors.js';
import type { ResultsArchive } from './archive.js';
import {
  compareStrings,
  findSubtree,
  type Item,
  STATUS_FAILED,
  STATUS_PASSED,
  STATUS_SKIPPED,
  STATUS_TIMEOUT,
} from './item.js';
import { parseItemYamlText, readItemYamlFile } from './itemfile.js';
import { DEFAULT_MAX_YAML_BYTES, ItemYamlError } from './yamlfast.js';

/**
 * `sonobuoy_results.yaml`, as process.ts names it (repeated here so that reading results does
 * not load the post-processors; a test keeps the two equal).
 */
export const RESULTS_FILE_NAME = 'sonobuoy_results.yaml';

/** A run's results: an extracted directory, or a tarball read into memory (archive.ts). */
export type ResultsRoot = string | ResultsArchive;

/** One plugin's processed tree, or why it could not be read (other plugins still report). */
export interface PluginResults {
  name: string;
  item?: Item;
  error?: FathomError;
}

export interface RunResults {
  plugins: PluginResults[];
}

function invalid(message: string, details: Record<string, unknown>, cause?: unknown): FathomError {
  return new FathomError('FATHOM_RESULTS_INVALID', message, { details, cause });
}

function isMissing(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException).code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}

/** The most of `meta/info.json` read (a list of plugin names). */
export const MAX_INFO_BYTES = 16 * 1024 * 1024;

/** The plugin list of a run, from `meta/info.json` (`{"plugins":[...]}`); empty when the file is absent. */
export async function readRunInfo(root: ResultsRoot): Promise<string[]> {
  const size = await fileSize(root, 'meta/info.json');
  if (size !== undefined && size > MAX_INFO_BYTES) {
    throw tooLargeToRead('meta/info.json', size, MAX_INFO_BYTES);
  }
  let text: string;
  try {
    text =
      typeof root === 'string'
        ? await readFile(join(root, 'meta', 'info.json'), 'utf8')
        : root.readText('meta/info.json');
  } catch (err) {
    if (isMissing(err)) return [];
    throw err;
  }
  let info: unknown;
  try {
    info = JSON.parse(text);
  } catch (err) {
    throw invalid(`meta/info.json: ${(err as Error).message}`, { file: 'meta/info.json' }, err);
  }
  const plugins = (info as { plugins?: unknown } | null)?.plugins;
  if (plugins === undefined || plugins === null) return [];
  if (!Array.isArray(plugins) || !plugins.every((p) => typeof p === 'string')) {
    throw invalid('meta/info.json: "plugins" is not a list of names', { file: 'meta/info.json' });
  }
  return plugins;
}

/** A results file larger than fathom reads: one line naming the file and the limit. */
export function tooLargeToRead(rel: string, size: number, maxBytes: number): FathomError {
  return invalid(`${rel}: ${size} bytes, more than the ${maxBytes} fathom reads`, {
    file: rel,
    size,
    maxBytes,
  });
}

/** The size of `rel` when it is a file (undefined otherwise, for the read to say why). */
async function fileSize(root: ResultsRoot, rel: string): Promise<number | undefined> {
  if (typeof root !== 'string') {
    const st = root.stat(rel);
    return st?.isFile ? st.size : undefined;
  }
  const st = await stat(join(root, rel)).catch(() => undefined);
  return st?.isFile() ? st.size : undefined;
}

/** A plugin's `plugins/<p>/sonobuoy_results.yaml`, checked. */
export async function readPluginResults(root: ResultsRoot, plugin: string): Promise<Item> {
  const rel = `plugins/${plugin}/${RESULTS_FILE_NAME}`;
  if (plugin === '' || plugin === '.' || plugin === '..' || /[/\\\0]/.test(plugin)) {
    throw invalid(`plugin name ${JSON.stringify(plugin)} is not a safe directory name`, { plugin });
  }
  // Checked first: a tarball reader never stores a file this large (results-show.ts).
  const size = await fileSize(root, rel);
  if (size !== undefined && size > DEFAULT_MAX_YAML_BYTES) {
    throw tooLargeToRead(rel, size, DEFAULT_MAX_YAML_BYTES);
  }
  try {
    if (typeof root === 'string')
      return await readItemYamlFile(join(root, 'plugins', plugin, RESULTS_FILE_NAME));
    return await parseItemYamlText(root.readText(rel));
  } catch (err) {
    if (isMissing(err))
      throw invalid(`failed to find file "${rel}" in archive`, { plugin, file: rel }, err);
    if (err instanceof ItemYamlError) {
      throw invalid(
        `failed to decode yaml results for plugin ${plugin}: ${err.message}`,
        { plugin, file: rel },
        err,
      );
    }
    throw err;
  }
}

/**
 * Every plugin of a run in `meta/info.json` order (or just `plugin`), each with its tree or its
 * error. Throws when no plugin is named at all.
 */
export async function readRunResults(
  root: ResultsRoot,
  options: { plugin?: string } = {},
): Promise<RunResults> {
  const names = options.plugin ? [options.plugin] : await readRunInfo(root);
  if (names.length === 0) {
    throw invalid('no plugins specified by either the --plugin flag or tarball metadata', {
      root: typeof root === 'string' ? root : root.file,
    });
  }
  const plugins: PluginResults[] = [];
  for (const name of names) {
    try {
      plugins.push({ name, item: await readPluginResults(root, name) });
    } catch (err) {
      if (!(err instanceof FathomError)) throw err;
      plugins.push({ name, error: err });
    }
  }
  return { plugins };
}

/** `-n node`: the first sub-tree (depth first, the root included) with that name; all of it when empty. */
export function selectNode(item: Item, node?: string): Item {
  if (!node) return item;
  const found = findSubtree(item, node);
  if (!found) {
    throw new FathomError('FATHOM_BAD_FLAG_VALUE', `node named "${node}" not found`, {
      details: { flag: '--node', value: node, plugin: item.name },
    });
  }
  return found;
}

/** What `results --mode report` shows for one (sub-)tree. */
export interface ReportData {
  /** The tree's root name (the plugin, or the node with `-n`). */
  name: string;
  status: string;
  /** Leaves. */
  total: number;
  passed: number;
  /** failed + timeout. */
  failed: number;
  skipped: number;
  /** Every other leaf status, sorted by name. */
  custom: { status: string; count: number }[];
  /** Failed and timed-out leaves in tree order, a leading Ginkgo `[It] ` removed. */
  failedTests: string[];
}

/** Strips Ginkgo's `[It]` (Sonobuoy strips `[It]` and keeps the space after it; fathom drops both). */
export function stripIt(name: string): string {
  return name.replace(/^\[It\] ?/, '');
}

/** Counts and failed names over the leaves of `item`. */
export function reportData(item: Item): ReportData {
  const counts = new Map<string, number>();
  const failedTests: string[] = [];
  const walk = (i: Item): void => {
    if (i.items?.length) {
      for (const c of i.items) walk(c);
      return;
    }
    counts.set(i.status, (counts.get(i.status) ?? 0) + 1);
    if (i.status === STATUS_FAILED || i.status === STATUS_TIMEOUT)
      failedTests.push(stripIt(i.name));
  };
  walk(item);
  const take = (s: string): number => {
    const n = counts.get(s) ?? 0;
    counts.delete(s);
    return n;
  };
  const total = [...counts.values()].reduce((a, b) => a + b, 0);
  const passed = take(STATUS_PASSED);
  const failed = take(STATUS_FAILED) + take(STATUS_TIMEOUT);
  const skipped = take(STATUS_SKIPPED);
  const custom = [...counts.keys()]
    .sort(compareStrings)
    .map((status) => ({ status, count: counts.get(status)! }));
  return {
    name: item.name,
    status: item.status,
    total,
    passed,
    failed,
    skipped,
    custom,
    failedTests,
  };
}

/** One leaf as `results --mode detailed` shows it. */
export interface DetailedLeaf {
  /** Names of the ancestors from the tree root down, without the leaf. */
  path: string[];
  /** The leaf; when it has no file, a copy with `meta.path` = `path` joined by `|`. */
  item: Item;
  /**
   * The leaf's `meta.file` with `\` turned into `/`, relative to `plugins/<p>/`: the CLI prints
   * `<path>|<name> ` and then the file's contents (see `resolveLeafFile`).
   */
  file?: string;
  /** For leaves without a file: the JSON line, as Go's encoding/json writes it. */
  json?: string;
}

/** Every leaf under `item`, in order, with its ancestry. */
export function detailedLeaves(item: Item): DetailedLeaf[] {
  const out: DetailedLeaf[] = [];
  // `joined` is `path.join('|')`, made once per parent rather than once per leaf.
  const walk = (i: Item, path: string[], joined: string): void => {
    if (i.items?.length) {
      const next = [...path, i.name];
      const nextJoined = path.length ? `${joined}|${i.name}` : i.name;
      for (const c of i.items) walk(c, next, nextJoined);
      return;
    }
    const file = i.meta?.file ? i.meta.file.replaceAll('\\', '/') : '';
    if (file) {
      out.push({ path, item: i, file });
      return;
    }
    const leaf: Item = { ...i, meta: { ...i.meta, path: joined } };
    out.push({ path, item: leaf, json: goJson(leaf) });
  };
  walk(item, [], '');
  return out;
}

/**
 * The absolute path of a leaf's file inside `plugins/<plugin>/`. Results are untrusted: a
 * `meta.file` that leads outside that directory is refused.
 */
export function resolveLeafFile(root: string, plugin: string, file: string): string {
  const base = resolve(root, 'plugins', plugin);
  const target = resolve(base, file);
  if (!target.startsWith(base + sep)) {
    throw invalid(
      `meta.file ${JSON.stringify(file)} of plugin ${plugin} points outside its directory`,
      { plugin, file },
    );
  }
  return target;
}

/**
 * `resolveLeafFile` for a tarball read in memory: the leaf's file as a path relative to the run's
 * root (`plugins/<plugin>/...`), refused in the same way when it leads outside the plugin's
 * directory.
 */
export function resolveLeafPath(plugin: string, file: string): string {
  const base = posix.resolve('/', 'plugins', plugin);
  const target = posix.resolve(base, file);
  if (!target.startsWith(`${base}/`)) {
    throw invalid(
      `meta.file ${JSON.stringify(file)} of plugin ${plugin} points outside its directory`,
      { plugin, file },
    );
  }
  return target.slice(1);
}

function sortMaps(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortMaps);
  if (v !== null && typeof v === 'object') {
    const obj = v as Record<string, unknown>;
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(obj).sort(compareStrings)) out[k] = sortMaps(obj[k]);
    return out;
  }
  return v;
}

/** JSON as Go's encoding/json writes an Item: field order kept, map keys sorted, `<>&` escaped. */
export function goJson(item: Item): string {
  const ordered: Record<string, unknown> = { name: item.name, status: item.status };
  if (item.meta && Object.keys(item.meta).length) ordered.meta = sortMaps(item.meta);
  if (item.details && Object.keys(item.details).length) ordered.details = sortMaps(item.details);
  if (item.items?.length) ordered.items = item.items.map((c) => JSON.parse(goJson(c)) as unknown);
  return JSON.stringify(ordered).replace(
    /[<>&\u2028\u2029]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

/** `--mode readable`: the dump with literal `\n` and `\t` turned into newlines and tabs. */
export function readableText(dump: string): string {
  return dump.replaceAll('\\n', '\n').replaceAll('\\t', '\t');
}
