/**
 * Text and machine output of `fathom results`. The text modes print what `sonobuoy results`
 * prints, byte for byte; the machine forms (`-o json|yaml`) carry the same data as one document.
 */
import type { FathomError } from '../../core/errors.js';
import type { DetailedLeaf, Item, ReportData } from '../../results/index.js';
import type { ClusterHealth } from '../../web/report/index.js';

export type ResultsMode = 'report' | 'detailed' | 'readable' | 'dump';
export const resultsModes: readonly ResultsMode[] = ['report', 'detailed', 'readable', 'dump'];

/** One plugin in report mode: Sonobuoy's `Plugin:`/`Status:`/counts block, then failed tests. */
export function formatReport(r: ReportData): string {
  const lines = [
    `Plugin: ${r.name}`,
    `Status: ${r.status}`,
    `Total: ${r.total}`,
    `Passed: ${r.passed}`,
    `Failed: ${r.failed}`,
    `Skipped: ${r.skipped}`,
    ...r.custom.map((c) => `${c.status}: ${c.count}`),
  ];
  let out = `${lines.join('\n')}\n`;
  if (r.failedTests.length > 0) out += `\nFailed tests:\n${r.failedTests.join('\n')}\n`;
  return out;
}

/** A piece of detailed output: text as is, or a leaf's file copied after its `a|b|name ` prefix. */
export type DetailedPart =
  { kind: 'text'; text: string } | { kind: 'file'; file: string; prefix: string };

/**
 * Detailed mode for one plugin: a Go-style JSON line per leaf, or for leaves naming a file, the
 * ancestry joined by `|` and a space (left out with `--skip-prefix`) followed by the file.
 */
export function detailedParts(
  leaves: readonly DetailedLeaf[],
  skipPrefix: boolean,
): DetailedPart[] {
  return leaves.map((l) =>
    l.file === undefined
      ? { kind: 'text', text: `${l.json ?? ''}\n` }
      : {
          kind: 'file',
          file: l.file,
          prefix: skipPrefix ? '' : `${[...l.path, l.item.name].join('|')} `,
        },
  );
}

/** How a plugin that could not be read appears in machine output. */
export interface MachineError {
  plugin: string;
  error: { code: string; message: string };
}

export function machineError(plugin: string, err: FathomError): MachineError {
  return { plugin, error: { code: err.code, message: err.message } };
}

/** `-o json|yaml` of report mode, per plugin. */
export function reportEntry(plugin: string, r: ReportData): Record<string, unknown> {
  return { plugin, ...r };
}

/** `-o json|yaml` of detailed mode: every leaf with its ancestry; file leaves name the file. */
export function detailedEntry(
  plugin: string,
  leaves: readonly DetailedLeaf[],
): Record<string, unknown> {
  return {
    plugin,
    leaves: leaves.map((l) => {
      const meta = { ...l.item.meta };
      // detailedLeaves adds meta.path for the JSON lines; here the ancestry is `path`.
      if (l.file === undefined && meta.path === l.path.join('|')) delete meta.path;
      return {
        path: l.path,
        name: l.item.name,
        status: l.item.status,
        ...(Object.keys(meta).length ? { meta } : {}),
        ...(l.item.details ? { details: l.item.details } : {}),
        ...(l.file !== undefined ? { file: l.file } : {}),
      };
    }),
  };
}

/** `-o json|yaml` of dump mode: the plugin's tree. */
export function dumpEntry(plugin: string, item: Item): Record<string, unknown> {
  return { plugin, results: item };
}

/** The one machine document: every plugin in order, and the cluster health when the run has it. */
export function machineDocument(
  plugins: readonly unknown[],
  health: ClusterHealth | undefined,
): Record<string, unknown> {
  return { plugins, ...(health ? { runDetails: health } : {}) };
}
