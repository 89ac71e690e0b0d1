import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { isScalar, LineCounter, parseAllDocuments } from 'yaml';
import { FathomError } from '../core/errors.js';
import type { PluginDefinition } from './types.js';
import { decodePlugin } from './decode.js';
import { collectAtMost, formatBytes, jsonSize, readFileAtMost } from '../core/bounded.js';
import { checkPluginText, pluginLimits, tooLarge } from './limits.js';
import { deepFreeze, pluginNameProblem } from './names.js';
import { syntaxError } from '../core/yaml-locate.js';

export { applyPluginEnv, parsePluginEnvFlag } from './env.js';

/** Plugins loaded from one or more sources, in load order, plus non-fatal remarks. */
export interface LoadedPlugins {
  readonly plugins: readonly PluginDefinition[];
  readonly warnings: readonly string[];
}

export interface LoadPluginOptions {
  /** Folder of the example plugins that bare names resolve to (`<builtinDir>/<NAME>.yaml`). */
  readonly builtinDir: string;
  /** Base for relative references; defaults to process.cwd(). */
  readonly cwd?: string;
  /** Text for the `-` reference; read from process.stdin when absent. */
  readonly stdin?: string;
  /** Plugins generated in code (`e2e`, `systemd-logs`): a bare NAME among them is generated. */
  readonly generated?: {
    readonly names: readonly string[];
    load(name: string): PluginDefinition | Promise<PluginDefinition>;
  };
}

/** Where each loaded plugin's name is written, for duplicate reports (kept off the frozen object). */
const nameLocations = new WeakMap<PluginDefinition, string>();

const MAX_ALIASES = 100;

/**
 * Parses every YAML document of `text` as a plugin definition. Empty documents are skipped,
 * but a file without any definition is an error (Sonobuoy rejects an empty file too).
 * @param file how the file is named in messages (`plugins/x.yaml`, `-`).
 */
export function parsePluginDocuments(text: string, file: string): LoadedPlugins {
  checkPluginText(text, file);
  const lines = new LineCounter();
  const docs = parseAllDocuments(text, { lineCounter: lines, merge: true, prettyErrors: true });
  const plugins: PluginDefinition[] = [];
  const warnings: string[] = [];
  // Report broken YAML anywhere in the file before judging any document.
  for (const doc of docs) if (doc.errors[0]) throw syntaxError(file, doc.errors[0]);
  docs.forEach((doc, index) => {
    const c = doc.contents;
    if (c === null || (isScalar(c) && c.value === null)) return;
    let value: unknown;
    try {
      value = doc.toJS({ maxAliasCount: MAX_ALIASES });
    } catch (cause) {
      throw new FathomError('FATHOM_YAML_SYNTAX', `${file}: ${(cause as Error).message}`, {
        cause,
        details: { file },
      });
    }
    const decoded = decodePlugin({ file, doc, lines }, index, value);
    nameLocations.set(decoded.plugin, decoded.nameAt);
    plugins.push(decoded.plugin);
    warnings.push(...decoded.warnings);
  });
  if (plugins.length === 0) {
    throw new FathomError(
      'FATHOM_PLUGIN_INVALID',
      `${file}:1:1: holds no plugin definition (the file is empty)`,
      { details: { file, line: 1, column: 1 } },
    );
  }
  assertUniqueNames(plugins);
  return { plugins, warnings };
}

/** Throws FATHOM_PLUGIN_DUPLICATE naming both places when two plugins share a name. */
export function assertUniqueNames(plugins: readonly PluginDefinition[]): void {
  const seen = new Map<string, PluginDefinition>();
  for (const p of plugins) {
    const first = seen.get(p.name);
    if (first) {
      const a = nameLocations.get(first) ?? first.source.file;
      const b = nameLocations.get(p) ?? p.source.file;
      throw new FathomError(
        'FATHOM_PLUGIN_DUPLICATE',
        `plugin name "${p.name}" is used twice: ${a} and ${b} (rename one with --plugin FILE@NEWNAME)`,
        { details: { plugin: p.name, files: [first.source.file, p.source.file] } },
      );
    }
    seen.set(p.name, p);
  }
}

/** Returns a renamed copy, as Sonobuoy's `-p file@newname` does (the manifest follows). */
export function renamePlugin(
  plugin: PluginDefinition,
  newName: string,
  ref: string,
): PluginDefinition {
  const problem = pluginNameProblem(newName);
  if (problem) {
    throw new FathomError('FATHOM_BAD_FLAG_VALUE', `--plugin ${ref}: new plugin name ${problem}`, {
      details: { flag: '--plugin', value: ref },
    });
  }
  const manifest = structuredClone(plugin.manifest) as Record<string, unknown>;
  const cfg = manifest['sonobuoy-config'] as Record<string, unknown>;
  cfg['plugin-name'] = newName;
  const renamed = deepFreeze({ ...plugin, name: newName, manifest });
  nameLocations.set(renamed, ref);
  return renamed;
}

function isMissing(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException).code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}

/** What one run has read so far, to bound the whole plugin set. */
interface RunBudget {
  fileBytes: number;
}

function fileTooLarge(shown: string): FathomError {
  return tooLarge(
    `${shown}: the file is over the ${formatBytes(pluginLimits.fileBytes)} limit for a plugin file`,
    { file: shown, limit: pluginLimits.fileBytes },
  );
}

/** Counts a file's bytes against the run's plugin set; refuses once the set is too big. */
function account(budget: RunBudget, bytes: number, shown: string): void {
  budget.fileBytes += bytes;
  if (budget.fileBytes > pluginLimits.runFileBytes) {
    throw tooLarge(
      `${shown}: the plugin files of this run are over the ${formatBytes(pluginLimits.runFileBytes)} limit together`,
      { file: shown, limit: pluginLimits.runFileBytes },
    );
  }
}

/** Reads a plugin file, refusing one over the limit by its size, then by what it yields. */
async function readPluginFile(file: string, shown: string, budget: RunBudget): Promise<string> {
  const info = await stat(file);
  if (info.isFile() && info.size > pluginLimits.fileBytes) throw fileTooLarge(shown);
  const bytes = await readFileAtMost(file, pluginLimits.fileBytes);
  if (!bytes) throw fileTooLarge(shown);
  account(budget, bytes.length, shown);
  return bytes.toString('utf8');
}

async function readText(
  file: string,
  shown: string,
  ref: string,
  budget: RunBudget,
): Promise<string> {
  try {
    return await readPluginFile(file, shown, budget);
  } catch (cause) {
    if (cause instanceof FathomError) throw cause;
    throw new FathomError(
      'FATHOM_PLUGIN_NOT_FOUND',
      `--plugin ${ref}: cannot read ${shown}: ${(cause as Error).message}`,
      {
        cause,
        details: { ref, file: shown },
      },
    );
  }
}

async function readStdin(budget: RunBudget): Promise<string> {
  const bytes = await collectAtMost(process.stdin, pluginLimits.fileBytes);
  if (!bytes) throw fileTooLarge('-');
  account(budget, bytes.length, '-');
  return bytes.toString('utf8');
}

async function builtinNames(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir))
      .filter((f) => f.endsWith('.yaml'))
      .map((f) => f.slice(0, -5))
      .sort();
  } catch {
    return [];
  }
}

/** `file@newname` → [file, newname]; a ref without a usable `@` suffix is left whole. */
function splitRename(ref: string): [string, string | undefined] {
  const at = ref.lastIndexOf('@');
  if (at <= 0 || at === ref.length - 1 || ref.slice(at).includes('/')) return [ref, undefined];
  return [ref.slice(0, at), ref.slice(at + 1)];
}

const isYamlFile = (name: string): boolean => name.endsWith('.yaml') || name.endsWith('.yml');

/** Loads one reference (without its `@newname`). */
async function loadRef(
  target: string,
  ref: string,
  opts: LoadPluginOptions,
  budget: RunBudget,
): Promise<LoadedPlugins> {
  if (target === '-') {
    const text = opts.stdin ?? (await readStdin(budget));
    if (opts.stdin !== undefined) account(budget, Buffer.byteLength(text), '-');
    return parsePluginDocuments(text, '-');
  }
  if (/^https?:\/\//.test(target)) {
    throw new FathomError(
      'FATHOM_PLUGIN_NOT_FOUND',
      `--plugin ${ref}: URLs are not supported; download the file and pass its path`,
      {
        details: { ref },
      },
    );
  }
  if (opts.generated?.names.includes(target)) {
    return { plugins: [await opts.generated.load(target)], warnings: [] };
  }
  const cwd = opts.cwd ?? process.cwd();
  const abs = path.resolve(cwd, target);
  let info;
  try {
    info = await stat(abs);
  } catch (err) {
    if (!isMissing(err)) throw err;
    if (!pluginNameProblem(target)) {
      const file = path.join(opts.builtinDir, `${target}.yaml`);
      try {
        return parsePluginDocuments(await readPluginFile(file, file, budget), file);
      } catch (e) {
        if (!isMissing(e)) throw e;
      }
    }
    const names = [...(opts.generated?.names ?? []), ...(await builtinNames(opts.builtinDir))];
    throw new FathomError(
      'FATHOM_PLUGIN_NOT_FOUND',
      `--plugin ${ref}: no such file, directory or built-in plugin${names.length ? ` (built-in: ${names.join(', ')})` : ''}`,
      { details: { ref, builtins: names } },
    );
  }
  if (!info.isDirectory()) {
    return parsePluginDocuments(await readText(abs, target, ref, budget), target);
  }
  const entries = (await readdir(abs)).filter(isYamlFile).sort();
  if (entries.length > pluginLimits.directoryFiles) {
    throw tooLarge(
      `--plugin ${ref}: the directory holds ${entries.length} *.yaml or *.yml files, over the limit of ${pluginLimits.directoryFiles}`,
      { ref, limit: pluginLimits.directoryFiles },
    );
  }
  const plugins: PluginDefinition[] = [];
  const warnings: string[] = [];
  for (const entry of entries) {
    if (!(await stat(path.join(abs, entry))).isFile()) continue;
    const shown = path.join(target, entry);
    const text = await readText(path.join(abs, entry), shown, ref, budget);
    const loaded = parsePluginDocuments(text, shown);
    plugins.push(...loaded.plugins);
    warnings.push(...loaded.warnings);
  }
  if (plugins.length === 0) {
    throw new FathomError(
      'FATHOM_PLUGIN_NOT_FOUND',
      `--plugin ${ref}: the directory holds no *.yaml or *.yml file`,
      {
        details: { ref },
      },
    );
  }
  return { plugins, warnings };
}

/**
 * Loads plugins from `--plugin` references, in order: a file, a directory (its `*.yaml` and
 * `*.yml` files, sorted, not recursive), `-` for stdin, or a bare NAME found as
 * `<builtinDir>/<NAME>.yaml`. A `REF@newname` suffix renames the single plugin REF holds.
 * Plugin names must be unique across the whole set.
 */
export async function loadPluginPaths(
  refs: readonly string[],
  opts: LoadPluginOptions,
): Promise<LoadedPlugins> {
  const plugins: PluginDefinition[] = [];
  const warnings: string[] = [];
  let stdinUsed = false;
  const budget: RunBudget = { fileBytes: 0 };
  for (const ref of refs) {
    let [target, newName] = splitRename(ref);
    // A path that really contains '@' wins over the rename reading.
    if (newName !== undefined && (await exists(path.resolve(opts.cwd ?? process.cwd(), ref)))) {
      [target, newName] = [ref, undefined];
    }
    if (target === '-') {
      if (stdinUsed)
        throw new FathomError('FATHOM_BAD_FLAG_VALUE', '--plugin -: stdin can be read only once', {
          details: { ref },
        });
      stdinUsed = true;
    }
    const loaded = await loadRef(target, ref, opts, budget);
    warnings.push(...loaded.warnings);
    if (newName === undefined) {
      plugins.push(...loaded.plugins);
      continue;
    }
    if (loaded.plugins.length !== 1) {
      throw new FathomError(
        'FATHOM_BAD_FLAG_VALUE',
        `--plugin ${ref}: renaming needs exactly one plugin, but ${target} holds ${loaded.plugins.length}`,
        { details: { flag: '--plugin', value: ref } },
      );
    }
    plugins.push(renamePlugin(loaded.plugins[0]!, newName, ref));
  }
  assertUniqueNames(plugins);
  assertRunSize(plugins);
  return { plugins, warnings };
}

/**
 * Bounds the definitions as a run stores them (the local backend's run.json holds each at
 * nesting 2, pretty-printed), whatever YAML aliases expanded them to.
 */
export function assertRunSize(plugins: readonly PluginDefinition[]): void {
  let left = pluginLimits.runDefinitionBytes;
  for (const p of plugins) {
    const size = jsonSize(p, left, pluginLimits.nestingDepth + 2, 2);
    if (typeof size !== 'number') {
      throw tooLarge(
        `${p.source.file}: plugin "${p.name}" brings this run's plugin definitions over the ${formatBytes(pluginLimits.runDefinitionBytes)} limit together (as JSON, aliases expanded)`,
        { file: p.source.file, plugin: p.name, limit: pluginLimits.runDefinitionBytes },
      );
    }
    left -= size;
  }
}

async function exists(p: string): Promise<boolean> {
  try {
    await stat(p);
    return true;
  } catch {
    return false;
  }
}
