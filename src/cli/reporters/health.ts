import pc from 'picocolors';
import type { HealthRow } from '../../status/index.js';
import { kubectlTable, renderData, type OutputFormat } from './status.js';

/** Each status in its colour (green is done, yellow is on its way, red needs a look). */
export const statusColours: Readonly<Record<string, (s: string) => string>> = {
  Current: pc.green,
  InProgress: pc.yellow,
  Failed: pc.red,
  Terminating: pc.yellow,
  NotFound: pc.red,
  Unknown: pc.red,
};

/** `kubectl get`-like table, or the rows as JSON/YAML. */
export function renderHealth(rows: readonly HealthRow[], format: OutputFormat): string {
  if (format !== 'table') return renderData(rows, format);
  const table = kubectlTable(['NAMESPACE', 'KIND', 'NAME', 'STATUS', 'MESSAGE']);
  for (const r of rows) {
    const colour = statusColours[r.status] ?? ((s: string) => s);
    table.push([r.namespace || '-', r.kind, r.name, colour(r.status), r.message]);
  }
  return `${table.toString()}\n`;
}
