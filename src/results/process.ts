/**
 * Post-processing one plugin's results into its Item tree, as Sonobuoy's aggregator does after
 * all results are in: pick the files by format and `result-files`, parse each (streaming),
 * group by node for DaemonSets, append the `errors/` leaves, then recompute statuses.
 */
import { createReadStream, type Dirent } from 'node:fs';
import { mkdir, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { FathomError } from '../core/errors.js';
import { ERROR_FILE, readErrorFile } from './errorfile.js';
import { type GojsonLimits, readGojson } from './gojson.js';
import { aggregateTree, summarize, type Item, type ResultSummary } from './item.js';
import { type JunitLimits, readJunit } from './junit.js';
import { readManual, type ItemYamlLimits } from './manual.js';
import { EXIT_CODE_FILE, readRaw } from './raw.js';
import { writeItemYaml } from './yamlout.js';

/** What post-processing needs to know about a plugin (a subset of `PluginDefinition`). */
export interface ProcessedPlugin {
  readonly name: string;
  readonly driver: 'Job' | 'DaemonSet';
  /** junit, e2e, gojson, raw, manual; anything else (or "") is processed as raw. */
  readonly resultFormat: string;
  /** Base names to process instead of the format's default selection. */
  readonly resultFiles: readonly string[];
}

export interface ProcessLimits {
  junit?: JunitLimits;
  gojson?: GojsonLimits;
  manual?: ItemYamlLimits;
}

/** The file name of the processed tree, in `plugins/<name>/`. */
export const RESULTS_FILE = 'sonobuoy_results.yaml';

type FileProcessor = (path: string, rel: string, name: string) => Promise<Item>;

interface Format {
  process: FileProcessor;
  select: (name: string) => boolean;
}

function fileItem(rel: string, name: string): Item {
  return { name, status: 'unknown', meta: { file: rel, type: 'file' } };
}

function formatFor(plugin: ProcessedPlugin, limits: ProcessLimits): Format {
  const files = plugin.resultFiles;
  const pick =
    (...exts: string[]) =>
    (name: string): boolean =>
      files.length > 0 ? files.includes(name) : exts.some((e) => e === '*' || name.endsWith(e));
  const stream = (p: string): AsyncIterable<Buffer> =>
    createReadStream(p, { highWaterMark: 256 * 1024 });
  switch (plugin.resultFormat) {
    case 'junit':
    case 'e2e':
      return {
        select: pick('.xml'),
        process: (p, rel, name) => readJunit(stream(p), fileItem(rel, name), limits.junit),
      };
    case 'gojson':
      return {
        select: pick('.json'),
        process: (p, rel, name) => readGojson(stream(p), fileItem(rel, name), limits.gojson),
      };
    case 'manual':
      return {
        select: pick('.yaml', '.yml'),
        process: (p, rel, name) => readManual(p, fileItem(rel, name), limits.manual),
      };
    default: {
      const any = pick('*');
      return { select: (name) => any(name) || name === EXIT_CODE_FILE, process: readRaw };
    }
  }
}

async function sortedEntries(dir: string): Promise<Dirent[]> {
  let entries: Dirent[];
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return [];
    throw err;
  }
  // Go's filepath.Walk order: names sorted bytewise.
  return entries.sort((a, b) => Buffer.compare(Buffer.from(a.name), Buffer.from(b.name)));
}

/**
 * Items for every selected regular file under `dir`, in filepath.Walk order. Symlinks and other
 * special files are never followed or read. `rel` paths are relative to the plugin directory.
 */
async function processDir(
  dir: string,
  relDir: string,
  select: (name: string) => boolean,
  process: FileProcessor,
): Promise<Item[]> {
  const out: Item[] = [];
  for (const e of await sortedEntries(dir)) {
    const path = join(dir, e.name);
    const rel = `${relDir}/${e.name}`;
    if (e.isDirectory()) out.push(...(await processDir(path, rel, select, process)));
    else if (e.isFile() && select(e.name)) out.push(await process(path, rel, e.name));
  }
  return out;
}

/** One node item per directory under `dir` (a DaemonSet's results or errors). */
async function processNodes(
  dir: string,
  relDir: string,
  select: (name: string) => boolean,
  process: FileProcessor,
): Promise<Item[]> {
  const out: Item[] = [];
  for (const e of await sortedEntries(dir)) {
    if (!e.isDirectory()) continue;
    const items = await processDir(join(dir, e.name), `${relDir}/${e.name}`, select, process);
    out.push({ name: e.name, status: '', meta: { type: 'node' }, items });
  }
  return out;
}

function pluginDir(resultsRoot: string, name: string): string {
  if (name === '' || name === '.' || name === '..' || /[/\\\0]/.test(name)) {
    throw new FathomError(
      'FATHOM_RESULTS_INVALID',
      `plugin name ${JSON.stringify(name)} is not a safe directory name`,
      {
        details: { plugin: name },
      },
    );
  }
  return join(resultsRoot, 'plugins', name);
}

/**
 * Builds the results tree of `plugin` from `<resultsRoot>/plugins/<name>/results` and `errors`.
 * Bad result files give `unknown` items with `meta.error`; only I/O failures on the directories
 * themselves reject.
 */
export async function postProcessPlugin(
  resultsRoot: string,
  plugin: ProcessedPlugin,
  limits: ProcessLimits = {},
): Promise<Item> {
  const dir = pluginDir(resultsRoot, plugin.name);
  const format = formatFor(plugin, limits);
  const isError = (name: string): boolean => name === ERROR_FILE;
  const each = plugin.driver === 'DaemonSet' ? processNodes : processDir;
  const items = await each(join(dir, 'results'), 'results', format.select, format.process);
  const errors = await each(join(dir, 'errors'), 'errors', isError, readErrorFile);
  const root: Item = {
    name: plugin.name,
    status: '',
    meta: { type: 'summary' },
    items: [...items, ...errors],
  };
  return aggregateTree(root);
}

/** Writes `plugins/<name>/sonobuoy_results.yaml` (atomically) and returns its path. */
export async function writePluginResults(
  resultsRoot: string,
  plugin: Pick<ProcessedPlugin, 'name'>,
  item: Item,
): Promise<string> {
  const dir = pluginDir(resultsRoot, plugin.name);
  await mkdir(dir, { recursive: true });
  const file = join(dir, RESULTS_FILE);
  await writeItemYaml(item, file);
  return file;
}

/**
 * What an aggregator does with a plugin once its results are in: writes its
 * sonobuoy_results.yaml and gives the verdict per node (the whole tree for a Job).
 */
export async function postProcessAndSummarize(
  resultsRoot: string,
  plugin: ProcessedPlugin,
): Promise<(node: string) => ResultSummary> {
  const item = await postProcessPlugin(resultsRoot, plugin);
  await writePluginResults(resultsRoot, plugin, item);
  return (node) => summarize(item, plugin.driver === 'Job' ? undefined : node);
}
