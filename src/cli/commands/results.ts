/**
 * `fathom results TARBALL|DIR`: what `sonobuoy results` shows (report, detailed, readable, dump)
 * from Sonobuoy's tarballs and fathom's, plus machine output, one HTML page and merged JUnit.
 * Like Sonobuoy, a plugin that cannot be read does not stop the others: its error is reported
 * once everything else is printed.
 */
import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import type { Command } from 'commander';
import { FathomError } from '../../core/errors.js';
import { VERSION } from '../../core/version.js';
import {
  detailedLeaves,
  type Item,
  itemToYaml,
  openResults,
  readableText,
  readPluginResults,
  readRunInfo,
  reportData,
  resolveLeafFile,
  RESULTS_FILE,
  selectNode,
} from '../../results/index.js';
import {
  buildReportModel,
  renderReportHtml,
  toClusterHealth,
  type ClusterHealth,
  type PluginInput,
  type RunMeta,
} from '../../web/report/index.js';
import type { Io } from '../context.js';
import { applyFlags, type FlagSpec } from '../flags.js';
import { renderData } from '../reporters/status.js';
import { formatRunDetails, healthYaml } from '../reporters/results-health.js';
import { renderJunit } from '../reporters/results-junit.js';
import {
  detailedEntry,
  detailedParts,
  dumpEntry,
  formatReport,
  machineDocument,
  machineError,
  reportEntry,
  resultsModes,
  type ResultsMode,
} from '../reporters/results.js';

type Output = 'text' | 'json' | 'yaml';
type Format = 'text' | 'html' | 'junit';

interface ResultsOptions {
  mode: ResultsMode;
  plugin?: string;
  node?: string;
  skipPrefix?: boolean;
  output: Output;
  format: Format;
}

export const resultsFlags: readonly FlagSpec[] = [
  {
    flags: '-m, --mode <mode>',
    description: 'report (counts and failed tests), detailed (one line per test), readable or dump',
    choices: resultsModes,
    default: 'report',
  },
  {
    flags: '-p, --plugin <name>',
    description: 'only this plugin (default: every plugin of the run)',
  },
  {
    flags: '-n, --node <name>',
    description: 'start at the first item with this name: a node, a file or a suite',
  },
  {
    flags: '-s, --skip-prefix',
    description: 'detailed mode: print the files of file results without their path prefix',
  },
  {
    flags: '-o, --output <format>',
    description: 'text, or json/yaml for report, detailed and dump',
    choices: ['text', 'json', 'yaml'],
    default: 'text',
  },
  {
    flags: '--format <format>',
    description: 'html: one self-contained page; junit: one merged JUnit XML for CI',
    choices: ['text', 'html', 'junit'],
    default: 'text',
  },
];

/** The cluster health pseudo-plugin is named `sonobuoy`, as in Sonobuoy. */
const HEALTH_PLUGIN = 'sonobuoy';
const HEALTH_FILE = 'meta/clusterhealth.json';
const MAX_HEALTH_BYTES = 64 * 1024 * 1024;

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

async function readHealth(root: string): Promise<Health | undefined> {
  const file = join(root, HEALTH_FILE);
  let size: number;
  try {
    const st = await stat(file);
    if (!st.isFile()) return undefined;
    size = st.size;
  } catch {
    return undefined;
  }
  if (size > MAX_HEALTH_BYTES) {
    return { raw: '', error: invalid(`${HEALTH_FILE}: larger than ${MAX_HEALTH_BYTES} bytes`) };
  }
  const raw = await readFile(file, 'utf8');
  try {
    return { raw, value: toClusterHealth(JSON.parse(raw)) };
  } catch (err) {
    return { raw, error: invalid(`${HEALTH_FILE}: ${(err as Error).message}`) };
  }
}

/** Best effort: the run's id, namespace and writer from `meta/config.json`, for the HTML title. */
async function readRunMeta(root: string): Promise<RunMeta> {
  try {
    const st = await stat(join(root, 'meta', 'config.json'));
    if (!st.isFile() || st.size > 16 * 1024 * 1024) return {};
    const c = JSON.parse(await readFile(join(root, 'meta', 'config.json'), 'utf8')) as Record<
      string,
      unknown
    >;
    const meta: RunMeta = {};
    if (typeof c.UUID === 'string') meta.uuid = c.UUID;
    if (typeof c.Version === 'string') meta.version = c.Version;
    if (typeof c.Namespace === 'string') meta.namespace = c.Namespace;
    return meta;
  } catch {
    return {};
  }
}

/** Copies a file to the output in chunks, decoding UTF-8 across chunk boundaries. */
async function copyFile(path: string, io: Io): Promise<void> {
  const decoder = new StringDecoder('utf8');
  for await (const chunk of createReadStream(path)) io.out(decoder.write(chunk as Buffer));
  const tail = decoder.end();
  if (tail) io.out(tail);
}

/** A leaf's file, checked to exist before anything of it is printed (as Sonobuoy does). */
async function leafFile(root: string, plugin: string, file: string): Promise<string> {
  const path = resolveLeafFile(root, plugin, file);
  const st = await stat(path).catch(() => undefined);
  if (!st?.isFile()) {
    throw invalid(`failed to find file "plugins/${plugin}/${file}" in archive`, { plugin, file });
  }
  return path;
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

/** The results command; one instance per invocation. */
class ResultsView {
  constructor(
    private readonly io: Io,
    private readonly root: string,
    private readonly o: ResultsOptions,
    private readonly health: Health | undefined,
  ) {}

  async tree(plugin: string): Promise<Item> {
    return selectNode(await readPluginResults(this.root, plugin), this.o.node);
  }

  /** dump/readable text: the file as written, or with `-n` the chosen sub-tree re-serialised. */
  async dumpText(plugin: string): Promise<string> {
    const item = await readPluginResults(this.root, plugin);
    if (this.o.node) return itemToYaml(selectNode(item, this.o.node));
    return readFile(join(this.root, 'plugins', plugin, RESULTS_FILE), 'utf8');
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
      if (o.mode === 'report') return io.out(formatRunDetails(h));
      const yaml = `${healthYaml(h)}\n`;
      return io.out(o.mode === 'readable' ? readableText(yaml) : yaml);
    }
    const plugin = section.name;
    switch (o.mode) {
      case 'report':
        return io.out(formatReport(reportData(await this.tree(plugin))));
      case 'dump':
        return io.out(await this.dumpText(plugin));
      case 'readable':
        return io.out(readableText(await this.dumpText(plugin)));
      case 'detailed':
        for (const part of detailedParts(detailedLeaves(await this.tree(plugin)), !!o.skipPrefix)) {
          if (part.kind === 'text') {
            io.out(part.text);
            continue;
          }
          const path = await leafFile(this.root, plugin, part.file);
          if (part.prefix) io.out(part.prefix);
          await copyFile(path, io);
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

async function showResults(
  path: string,
  o: ResultsOptions,
  io: Io,
  modeGiven: boolean,
): Promise<void> {
  checkOptions(o, modeGiven);
  const opened = await openResults(path);
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
    const view = new ResultsView(io, root, o, health);

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
      io.out(renderData(machineDocument(entries, h), o.output));
    } else {
      for (const [i, s] of sections.entries()) {
        await view.text(s).catch((err: unknown) => caught(err, s));
        // A blank line between sections, not after the last (as Sonobuoy).
        if (i + 1 < sections.length) io.out('\n');
      }
    }
  } finally {
    await opened.cleanup();
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

export function registerResults(program: Command, io: Io): void {
  const cmd = program
    .command('results')
    .argument(
      '<tarball|dir>',
      'a results tarball (from `fathom retrieve` or Sonobuoy) or its extracted directory',
    )
    .description(
      "show a run's results: counts, failed tests, every test, or the raw tree (works offline)",
    )
    .action(async (path: string, options: ResultsOptions) => {
      await showResults(path, options, io, cmd.getOptionValueSource('mode') === 'cli');
    });
  applyFlags(cmd, resultsFlags);
}
