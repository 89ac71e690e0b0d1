import Table from 'cli-table3';
import pc from 'picocolors';
import type { HealthRow } from '../../status/index.js';
import { renderData, type OutputFormat } from './status.js';

const colours: Record<string, (s: string) => string> = {
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
  const table = new Table({
    head: ['NAMESPACE', 'KIND', 'NAME', 'STATUS', 'MESSAGE'],
    style: { head: [], border: [], compact: true },
    chars: {
      top: '',
      'top-mid': '',
      'top-left': '',
      'top-right': '',
      bottom: '',
      'bottom-mid': '',
      'bottom-left': '',
      'bottom-right': '',
      left: '',
      'left-mid': '',
      mid: '',
      'mid-mid': '',
      right: '',
      'right-mid': '',
      middle: '  ',
    },
  });
  for (const r of rows) {
    const colour = colours[r.status] ?? ((s: string) => s);
    table.push([r.namespace || '-', r.kind, r.name, colour(r.status), r.message]);
  }
  return `${table.toString()}\n`;
}
