/** What every bench returns, and how it is printed: GitHub markdown tables, pasteable as is. */

export type Cell = string | number;

/** One table of a bench's results. `rows` are raw values for results.json; cells are formatted. */
export interface Table {
  title: string;
  columns: readonly string[];
  rows: Cell[][];
  /** Lines printed under the table: what was measured and how. */
  notes?: string[];
}

export interface BenchResult {
  /** Machine-readable figures for results.json. */
  data: Record<string, unknown>;
  tables: Table[];
  /** Set when the bench could not run here; `tables` may then be empty. */
  skipped?: string;
}

/** A bench: a name for `--only`, what it measures, and the code. */
export interface Bench {
  readonly name: string;
  readonly description: string;
  run(log: (line: string) => void): Promise<BenchResult>;
}

export function ms(value: number): string {
  if (!Number.isFinite(value)) return '–';
  if (value >= 10_000) return `${(value / 1000).toFixed(1)} s`;
  if (value >= 1000) return `${(value / 1000).toFixed(2)} s`;
  return `${value.toFixed(value >= 100 ? 0 : 1)} ms`;
}

export function mib(kib: number): string {
  return Number.isFinite(kib) ? `${(kib / 1024).toFixed(0)} MiB` : '–';
}

export function bytes(n: number): string {
  if (n >= 1024 ** 3) return `${(n / 1024 ** 3).toFixed(n % 1024 ** 3 ? 2 : 0)} GiB`;
  if (n >= 1024 ** 2) return `${(n / 1024 ** 2).toFixed(n % 1024 ** 2 ? 1 : 0)} MiB`;
  if (n >= 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${n} B`;
}

/** Decimal megabytes per second, the usual unit for throughput. */
export function mbps(byteCount: number, millis: number): string {
  return `${(byteCount / 1e6 / (millis / 1000)).toFixed(0)} MB/s`;
}

export function count(n: number): string {
  return n.toLocaleString('en-US');
}

export function renderTable(t: Table): string {
  const cells = t.rows.map((r) => r.map(String));
  const widths = t.columns.map((c, i) =>
    Math.max(c.length, ...cells.map((r) => r[i]?.length ?? 0)),
  );
  const line = (r: readonly string[]): string =>
    `| ${r.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  const out = [
    `**${t.title}**`,
    '',
    line(t.columns),
    `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`,
  ];
  for (const r of cells) out.push(line(r));
  for (const n of t.notes ?? []) out.push('', n);
  return out.join('\n');
}
