import pc from 'picocolors';
import { stringify } from 'yaml';
import type { PluginStatusEntry, ProgressUpdate, RunStatus } from '../../aggregation/types.js';
import { visible } from '../../core/visible.js';
import { kubectlTable } from './table.js';

export { kubectlTable } from './table.js';

export type OutputFormat = 'table' | 'json' | 'yaml';

/** Machine output: the value as JSON or YAML. */
export function renderData(value: unknown, format: 'json' | 'yaml'): string {
  return format === 'json' ? `${JSON.stringify(value, null, 2)}\n` : stringify(value);
}

/** Sonobuoy's progress words: `Passed: n, Failed: m, Remaining: r` (Remaining omitted when negative). */
export function progressText(p: ProgressUpdate | undefined): string {
  if (!p) return '';
  // Failures dropped to keep the progress bounded still count.
  const failed = (p.failures?.length ?? 0) + (p.droppedfailures ?? 0);
  const remaining = p.total - p.completed - failed;
  const counts = `Passed:${String(p.completed).padStart(3)}, Failed:${String(failed).padStart(3)}${remaining >= 0 ? `, Remaining:${String(remaining).padStart(3)}` : ''}`;
  return p.msg ? `${counts} (${p.msg})` : counts;
}

interface PluginSummary {
  plugin: string;
  status: PluginStatusEntry['status'];
  result: string;
  count: number;
  progress: string;
}

/** One row per plugin: failed beats running beats complete, as a person reads a run. */
export function summarizePlugins(entries: readonly PluginStatusEntry[]): PluginSummary[] {
  const byPlugin = new Map<string, PluginStatusEntry[]>();
  for (const e of entries) byPlugin.set(e.plugin, [...(byPlugin.get(e.plugin) ?? []), e]);
  return [...byPlugin].map(([plugin, list]) => {
    const status = list.some((e) => e.status === 'failed')
      ? 'failed'
      : list.some((e) => e.status === 'running')
        ? 'running'
        : 'complete';
    const results = new Set(list.map((e) => e['result-status']).filter(Boolean));
    const result =
      results.size <= 1
        ? ([...results][0] ?? '')
        : results.has('failed')
          ? 'failed'
          : [...results].sort().join(', ');
    const progress =
      list.length === 1
        ? progressText(list[0]!.progress)
        : `${list.filter((e) => e.status !== 'running').length}/${list.length} nodes reported`;
    return { plugin, status, result, count: list.length, progress };
  });
}

function colour(status: string): string {
  if (status === 'failed' || status === 'timeout') return pc.red(status);
  if (status === 'complete' || status === 'passed') return pc.green(status);
  return pc.yellow(status);
}

/** One sentence under the table that says what the run is doing and what to do next. */
export function statusSentence(status: RunStatus, namespace: string): string {
  const done = status.plugins.filter((e) => e.status !== 'running').length;
  switch (status.status) {
    case 'complete':
      return `Run complete: ${status.plugins.length} results in. Retrieve them with \`fathom retrieve -n ${namespace}\`.`;
    case 'post-processing':
      return 'All results are in; post-processing them.';
    case 'failed':
      return `The aggregator stopped before the run finished and was not restarted; see \`fathom logs -n ${namespace}\`, then \`fathom resume -n ${namespace}\` (or \`fathom retrieve --partial\` for what was accepted).`;
    default:
      return `Run is running: ${done} of ${status.plugins.length} results in.`;
  }
}

/** Names and progress messages come from workers and plugins: no raw control characters. */
const cell = (text: string): string => visible(text, 'cell');

export function renderStatus(
  status: RunStatus,
  format: OutputFormat,
  options: { showAll?: boolean; namespace: string },
): string {
  if (format !== 'table') return renderData(status, format);
  const table = kubectlTable(
    options.showAll
      ? ['PLUGIN', 'NODE', 'STATUS', 'RESULT', 'PROGRESS']
      : ['PLUGIN', 'STATUS', 'RESULT', 'COUNT', 'PROGRESS'],
  );
  if (options.showAll) {
    for (const e of status.plugins)
      table.push([
        cell(e.plugin),
        cell(e.node),
        colour(cell(e.status)),
        colour(cell(e['result-status'])),
        cell(progressText(e.progress)),
      ]);
  } else {
    for (const s of summarizePlugins(status.plugins))
      table.push([
        cell(s.plugin),
        colour(cell(s.status)),
        colour(cell(s.result)),
        String(s.count),
        cell(s.progress),
      ]);
  }
  return `${table.toString()}\n\n${statusSentence(status, options.namespace)}\n`;
}

/** True when some plugin reported an error result, timed out, or its results failed. */
export function runFailed(status: RunStatus): boolean {
  return (
    status.status === 'failed' ||
    status.plugins.some((e) => e.status === 'failed' || e['result-status'] === 'failed')
  );
}
