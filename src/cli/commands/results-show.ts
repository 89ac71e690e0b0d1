/**
 * The work of `fathom results` (declared in results.ts). Like Sonobuoy, a plugin that cannot be
 * read does not stop the others: its error is reported once everything else is printed.
 *
 * A tarball is read in one streaming pass that keeps only the files the output needs (the run's
 * meta files and the plugins' sonobuoy_results.yaml), and none larger than fathom reads; detailed
 * text output then reads it once more for the files its trees name, and nothing else. Files are
 * printed in pieces, so memory does not grow with their size (archive.ts says where they wait).
 * Modules that only some outputs need are imported where they are used, to keep start-up small.
 */
import { readFile, stat } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { FathomError } from '../../core/errors.js';
import { visible } from '../../core/visible.js';
import { VERSION } from '../../core/version.js';
import {
  readArchive,
  type ArchiveLimits,
  type KeepFile,
  type ResultsArchive,
} from '../../results/archive.js';
import type { Item } from '../../results/item.js';
import {
  detailedLeaves,
  MAX_INFO_BYTES,
  readableText,
  readPluginResults,
  readRunInfo,
  reportData,
  RESULTS_FILE_NAME,
  selectNode,
  type ResultsRoot,
} from '../../results/read.js';
import { DEFAULT_MAX_YAML_BYTES } from '../../results/yamlfast.js';
import { itemToYaml } from '../../results/yamlout.js';
import { toClusterHealth, type ClusterHealth } from '../../web/report/health.js';
import type { PluginInput, RunMeta } from '../../web/report/model.js';
import type { Io } from '../context.js';
import {
  detailedEntry,
  detailedParts,
  dumpEntry,
  formatReport,
  machineDocument,
  machineError,
  reportEntry,
} from '../reporters/results.js';
import {
  copyText,
  fileText,
  leafFiles,
  printLeafFile,
  readablePieces,
  type Pieces,
} from './results-files.js';
import type { ResultsOptions } from './results.js';

/** The cluster health pseudo-plugin is named `sonobuoy`, as in Sonobuoy. */
const HEALTH_PLUGIN = 'sonobuoy';
const HEALTH_FILE = 'meta/clusterhealth.json';
const CONFIG_FILE = 'meta/config.json';
const INFO_FILE = 'meta/info.json';
const MAX_HEALTH_BYTES = 64 * 1024 * 1024;
const MAX_CONFIG_BYTES = 16 * 1024 * 1024;

type Section = { kind: 'plugin'; name: string } | { kind: 'health' };

interface Health {
  raw: string;
  value?: ClusterHealth;
  error?: FathomError;
}

function invalid(message: string, details: Record<string, unknown> = {}): FathomError {
  return new FathomError('FATHOM_RESULTS_INVALID', message, { details });
}

/** Control characters in names from the results would break the one-line error. */
function oneLine(text: string): string {
  return text.replace(/[^\x20-\x7e\x80-\uffff]/g, (c) => JSON.stringify(c).slice(1, -1));
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

async function readHealth(root: ResultsRoot): Promise<Health | undefined> {
  const st = await statOf(root, HEALTH_FILE);
  if (!st) return undefined;
  if (st.size > MAX_HEALTH_BYTES) {
    return { raw: '', error: invalid(`${HEALTH_FILE}: larger than ${MAX_HEALTH_BYTES} bytes`) };
  }
  const raw = await readText(root, HEALTH_FILE);
  try {
    return { raw, value: toClusterHealth(JSON.parse(raw)) };
  } catch (err) {
    return { raw, error: invalid(`${HEALTH_FILE}: ${(err as Error).message}`) };
  }
}

/** Best effort: the run's id, namespace and writer from `meta/config.json`, for the HTML title. */
async function readRunMeta(root: ResultsRoot): Promise<RunMeta> {
  try {
    const st = await statOf(root, CONFIG_FILE);
    if (!st || st.size > MAX_CONFIG_BYTES) return {};
    const c = JSON.parse(await readText(root, CONFIG_FILE)) as Record<string, unknown>;
    const meta: RunMeta = {};
    if (typeof c.UUID === 'string') meta.uuid = c.UUID;
    if (typeof c.Version === 'string') meta.version = c.Version;
    if (typeof c.Namespace === 'string') meta.namespace = c.Namespace;
    return meta;
  } catch {
    return {};
  }
}

function checkOptions(o: ResultsOptions, modeGiven: boolean): void {
  if (o.format !== 'text' && o.output !== 'text') {
    throw new FathomError(
      'FATHOM_BAD_FLAG_VALUE',
      `-o ${o.output}: not with --format ${o.format}, which writes its own format`,
      { details: { flag: '--output', value: o.output } },
    );
  }
  if (o.format !== 'text' && modeGiven && o.mode !== 'report') {
    throw new FathomError(
      'FATHOM_BAD_FLAG_VALUE',
      `--mode ${o.mode}: --format ${o.format} always holds every test; leave --mode out`,
      { details: { flag: '--mode', value: o.mode } },
    );
  }
  if (o.output !== 'text' && o.mode === 'readable') {
    throw new FathomError(
      'FATHOM_BAD_FLAG_VALUE',
      `-o ${o.output}: --mode readable is text only; use --mode dump for ${o.output}`,
      { details: { flag: '--output', value: o.output } },
    );
  }
}

/** Detailed text output prints the results' own files, not only the trees. */
function printsFiles(o: ResultsOptions): boolean {
  return o.mode === 'detailed' && o.output === 'text' && o.format === 'text';
}

/**
 * The files of a tarball this invocation reads (by path relative to the run's root), each with
 * the most of it that is ever read: a larger one is refused by its reader, so never stored.
 */
function wantedFiles(o: ResultsOptions): KeepFile {
  return (rel) => {
    if (rel === INFO_FILE) return MAX_INFO_BYTES;
    if (rel === HEALTH_FILE) return MAX_HEALTH_BYTES;
    if (rel === CONFIG_FILE) return o.format !== 'text' && MAX_CONFIG_BYTES;
    if (!rel.startsWith('plugins/')) return false;
    const slash = rel.indexOf('/', 'plugins/'.length);
    if (slash === -1 || (o.plugin !== undefined && rel.slice(8, slash) !== o.plugin)) return false;
    return rel.slice(slash + 1) === RESULTS_FILE_NAME && DEFAULT_MAX_YAML_BYTES;
  };
}

/** The run's files: a directory as it is; of a tarball, what `wantedFiles` says. */
async function openRoot(
  path: string,
  o: ResultsOptions,
  limits: ArchiveLimits,
): Promise<{ root: ResultsRoot; cleanup: () => void }> {
  let isDir: boolean;
  try {
    isDir = (await stat(path)).isDirectory();
  } catch (err) {
    throw new FathomError('FATHOM_RESULTS_NOT_FOUND', `${path}: no such file or directory`, {
      cause: err,
      details: { path },
    });
  }
  if (isDir) return { root: resolve(path), cleanup: () => undefined };
  const root = await readArchive(path, wantedFiles(o), limits);
  return { root, cleanup: () => root.cleanup() };
}

/** The results command; one instance per invocation. */
class ResultsView {
  constructor(
    private readonly io: Io,
    private readonly root: ResultsRoot,
    private readonly o: ResultsOptions,
    private readonly health: Health | undefined,
    /** Of a tarball, for detailed text output: the files the trees name. */
    private readonly files: ResultsRoot = root,
  ) {}

  async tree(plugin: string): Promise<Item> {
    return selectNode(await readPluginResults(this.root, plugin), this.o.node);
  }

  /**
   * dump/readable text: the file as written (checked first, then copied in pieces), or with `-n`
   * the chosen sub-tree re-serialised.
   */
  async dumpText(plugin: string): Promise<Pieces> {
    const item = await readPluginResults(this.root, plugin);
    if (this.o.node) return [itemToYaml(selectNode(item, this.o.node))];
    const rel = `plugins/${plugin}/${RESULTS_FILE_NAME}`;
    return typeof this.root === 'string' ? fileText(join(this.root, rel)) : this.root.chunks(rel);
  }

  healthValue(): ClusterHealth {
    if (this.health?.error) throw this.health.error;
    return this.health!.value!;
  }

  async text(section: Section): Promise<void> {
    const { io, o } = this;
    if (section.kind === 'health') {
      // Detailed mode copies the file as it is, as Sonobuoy does.
      if (o.mode === 'detailed' && this.health?.raw) return io.out(this.health.raw);
      const h = this.healthValue();
      const { formatRunDetails, healthYaml } = await import('../reporters/results-health.js');
      if (o.mode === 'report') return io.out(formatRunDetails(h));
      const yaml = `${healthYaml(h)}\n`;
      return io.out(o.mode === 'readable' ? readableText(yaml) : yaml);
    }
    const plugin = section.name;
    switch (o.mode) {
      case 'report':
        return io.out(formatReport(reportData(await this.tree(plugin))));
      case 'dump':
        return copyText(await this.dumpText(plugin), io);
      case 'readable':
        return copyText(readablePieces(await this.dumpText(plugin)), io);
      case 'detailed':
        for (const part of detailedParts(detailedLeaves(await this.tree(plugin)), !!o.skipPrefix)) {
          if (part.kind === 'text') {
            io.out(part.text);
            continue;
          }
          await printLeafFile(io, this.files, plugin, part.file, part.prefix);
        }
    }
  }

  async machine(section: Section): Promise<unknown> {
    if (section.kind === 'health') return undefined;
    const plugin = section.name;
    if (this.o.mode === 'detailed') {
      return detailedEntry(plugin, detailedLeaves(await this.tree(plugin)));
    }
    if (this.o.mode === 'dump') return dumpEntry(plugin, await this.tree(plugin));
    return reportEntry(plugin, reportData(await this.tree(plugin)));
  }
}

/** `fathom results PATH`; `limits` bound what a tarball may hold in memory (tests lower them). */
export async function showResults(
  path: string,
  o: ResultsOptions,
  io: Io,
  modeGiven: boolean,
  limits: ArchiveLimits = {},
): Promise<void> {
  checkOptions(o, modeGiven);
  const opened = await openRoot(path, o, limits);
  let files: ResultsArchive | undefined;
  const errors: FathomError[] = [];
  const caught = (err: unknown, section?: Section): FathomError => {
    // A file of the results that cannot be read as one (a directory, no permission) is bad input.
    const code = (err as NodeJS.ErrnoException | undefined)?.code;
    const e =
      err instanceof FathomError
        ? err
        : typeof code === 'string' && /^E[A-Z]+$/.test(code)
          ? invalid(
              `${section?.kind === 'plugin' ? `plugin ${JSON.stringify(section.name)}: ` : ''}${(err as Error).message}`,
              { code },
            )
          : undefined;
    if (!e) throw err;
    errors.push(e);
    return e;
  };
  try {
    const root = opened.root;
    const names = o.plugin ? [o.plugin] : await readRunInfo(root);
    if (names.length === 0) {
      throw invalid('no plugins specified by either the --plugin flag or tarball metadata');
    }
    const health = await readHealth(root);
    // Run details follow the plugins; `-p sonobuoy` asks for them alone.
    const sections: Section[] =
      o.plugin === HEALTH_PLUGIN && health
        ? [{ kind: 'health' }]
        : names.map((name) => ({ kind: 'plugin', name }));
    if (!o.plugin && health) sections.push({ kind: 'health' });
    if (typeof root !== 'string' && printsFiles(o)) {
      const plugins = sections.flatMap((s) => (s.kind === 'plugin' ? [s.name] : []));
      files = await leafFiles(path, root, plugins, limits);
    }
    // Text for people shows control characters as escapes; dump mode is the file, exact.
    const textIo = o.mode === 'dump' ? io : { ...io, out: (t: string) => io.out(visible(t)) };
    const view = new ResultsView(textIo, root, o, health, files ?? root);

    if (o.format !== 'text') {
      const plugins: PluginInput[] = [];
      for (const s of sections) {
        if (s.kind !== 'plugin') continue;
        try {
          plugins.push({ name: s.name, item: await view.tree(s.name) });
        } catch (err) {
          plugins.push({ name: s.name, error: caught(err, s).message });
        }
      }
      const [{ buildReportModel, renderReportHtml }, { renderJunit }] = await Promise.all([
        import('../../web/report/index.js'),
        import('../reporters/results-junit.js'),
      ]);
      const model = buildReportModel({
        source: basename(path),
        run: await readRunMeta(root),
        plugins,
        ...(health?.value ? { health: health.value } : {}),
      });
      io.out(
        o.format === 'html'
          ? renderReportHtml(model, { generator: `fathom ${VERSION}` })
          : renderJunit(model),
      );
    } else if (o.output !== 'text') {
      const entries: unknown[] = [];
      for (const s of sections) {
        if (s.kind !== 'plugin') continue;
        try {
          entries.push(await view.machine(s));
        } catch (err) {
          entries.push(machineError(s.name, caught(err, s)));
        }
      }
      const h = sections.some((s) => s.kind === 'health') ? health?.value : undefined;
      if (health?.error && sections.some((s) => s.kind === 'health')) errors.push(health.error);
      const { renderData } = await import('../reporters/status.js');
      io.out(renderData(machineDocument(entries, h), o.output));
    } else {
      for (const [i, s] of sections.entries()) {
        await view.text(s).catch((err: unknown) => caught(err, s));
        // A blank line between sections, not after the last (as Sonobuoy).
        if (i + 1 < sections.length) io.out('\n');
      }
    }
  } finally {
    files?.cleanup();
    opened.cleanup();
  }
  if (errors.length > 0) {
    const last = errors[errors.length - 1]!;
    const n = errors.length - 1;
    const more = n > 0 ? ` (and ${n} more error${n === 1 ? '' : 's'})` : '';
    throw new FathomError(last.code, oneLine(`${last.message}${more}`), {
      cause: last,
      details: last.details,
    });
  }
}
