import pc from 'picocolors';
import { visible } from '../../core/visible.js';
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

/** Names and messages come from the objects read: no raw control characters. */
const cell = (s: string): string => visible(s, 'cell');

/** `kubectl get`-like table, or the rows as JSON/YAML. */
export function renderHealth(rows: readonly HealthRow[], format: OutputFormat): string {
  if (format !== 'table') return renderData(rows, format);
  const table = kubectlTable(['NAMESPACE', 'KIND', 'NAME', 'STATUS', 'MESSAGE']);
  for (const r of rows) {
    const colour = statusColours[r.status] ?? ((s: string) => s);
    table.push([
      cell(r.namespace) || '-',
      cell(r.kind),
      cell(r.name),
      colour(r.status),
      cell(r.message),
    ]);
  }
  return `${table.toString()}\n`;
}
