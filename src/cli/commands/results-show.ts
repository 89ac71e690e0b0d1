/**
 * The work of `fathom results` (declared in results.ts): arguments in, text out. Like Sonobuoy, a
 * plugin that cannot be read does not stop the others: its error is reported once everything
 * else is printed. Reading the run (a tarball or a directory) is the results reader's
 * (src/results/reader.ts), which the HTML report and the dashboard share.
 * Modules that only some outputs need are imported where they are used, to keep start-up small.
 */
import { basename } from 'node:path';
import { FathomError } from '../../core/errors.js';
import { visible } from '../../core/visible.js';
import { VERSION } from '../../core/version.js';
import type { ArchiveLimits } from '../../results/archive.js';
import type { ClusterHealth } from '../../results/health.js';
import type { Item } from '../../results/item.js';
import { detailedLeaves, readableText, reportData, selectNode } from '../../results/read.js';
import {
  HEALTH_PLUGIN,
  ResultsReader,
  type HealthFile,
  type Pieces,
} from '../../results/reader.js';
import { itemToYaml } from '../../results/yamlout.js';
import type { PluginInput } from '../../web/report/model.js';
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
import { copyText, printLeafFile, readablePieces } from './results-files.js';
import type { ResultsOptions } from './results.js';

type Section = { kind: 'plugin'; name: string } | { kind: 'health' };

function invalid(message: string, details: Record<string, unknown> = {}): FathomError {
  return new FathomError('FATHOM_RESULTS_INVALID', message, { details });
}

/** Control characters in names from the results would break the one-line error. */
function oneLine(text: string): string {
  return text.replace(/[^\x20-\x7e\x80-\uffff]/g, (c) => JSON.stringify(c).slice(1, -1));
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

/** The results command; one instance per invocation. */
class ResultsView {
  constructor(
    private readonly io: Io,
    private readonly reader: ResultsReader,
    private readonly o: ResultsOptions,
    private readonly health: HealthFile | undefined,
  ) {}

  async tree(plugin: string): Promise<Item> {
    return selectNode(await this.reader.pluginTree(plugin), this.o.node);
  }

  /**
   * dump/readable text: the file as written (checked first, then copied in pieces), or with `-n`
   * the chosen sub-tree re-serialised.
   */
  async dumpText(plugin: string): Promise<Pieces> {
    const item = await this.reader.pluginTree(plugin);
    if (this.o.node) return [itemToYaml(selectNode(item, this.o.node))];
    return this.reader.pluginFileText(plugin);
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
          await printLeafFile(io, this.reader, plugin, part.file, part.prefix);
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
  if (o.cluster) return showCluster(path, o, io, modeGiven, limits);
  const reader = await ResultsReader.open(path, {
    ...(o.plugin !== undefined ? { plugin: o.plugin } : {}),
    runMeta: o.format !== 'text',
    cluster: o.format === 'html',
    limits,
  });
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
    const names = o.plugin ? [o.plugin] : await reader.plugins();
    if (names.length === 0) {
      throw invalid('no plugins specified by either the --plugin flag or tarball metadata');
    }
    const health = await reader.health();
    // Run details follow the plugins; `-p sonobuoy` asks for them alone.
    const sections: Section[] =
      o.plugin === HEALTH_PLUGIN && health
        ? [{ kind: 'health' }]
        : names.map((name) => ({ kind: 'plugin', name }));
    if (!o.plugin && health) sections.push({ kind: 'health' });
    if (printsFiles(o)) {
      await reader.loadLeafFiles(sections.flatMap((s) => (s.kind === 'plugin' ? [s.name] : [])));
    }
    // Text for people shows control characters as escapes; dump mode is the file, exact.
    const textIo = o.mode === 'dump' ? io : { ...io, out: (t: string) => io.out(visible(t)) };
    const view = new ResultsView(textIo, reader, o, health);

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
        run: await reader.runMeta(),
        plugins,
        ...(health?.value ? { health: health.value } : {}),
        // A snapshot that cannot be read leaves the section out; the results are what matter.
        ...(o.format === 'html'
          ? { cluster: await reader.clusterSummary().catch(() => undefined) }
          : {}),
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
    reader.close();
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

/** `fathom results PATH --cluster`: the summary of the run's cluster snapshot. */
async function showCluster(
  path: string,
  o: ResultsOptions,
  io: Io,
  modeGiven: boolean,
  limits: ArchiveLimits,
): Promise<void> {
  const other =
    o.format !== 'text'
      ? `--format ${o.format}`
      : modeGiven
        ? `--mode ${o.mode}`
        : o.plugin !== undefined
          ? '--plugin'
          : o.node !== undefined
            ? '--node'
            : undefined;
  if (other) {
    throw new FathomError(
      'FATHOM_BAD_FLAG_VALUE',
      `--cluster: not with ${other}; it shows the cluster, not the results`,
      { details: { flag: '--cluster' } },
    );
  }
  const reader = await ResultsReader.open(path, { cluster: true, limits });
  try {
    const view = await reader.clusterSummary();
    if (!view) {
      throw invalid(
        `${basename(path)} holds no cluster snapshot (resources/cluster/core_v1_nodes.json, serverversion.json): its run collected none (a fathom run from before the snapshot, or a Sonobuoy run without its cluster queries)`,
        { path },
      );
    }
    const { clusterDocument, formatClusterSummary } =
      await import('../reporters/results-cluster.js');
    if (o.output === 'text') return io.out(formatClusterSummary(view));
    const { renderData } = await import('../reporters/status.js');
    io.out(renderData(clusterDocument(view), o.output));
  } finally {
    reader.close();
  }
}
