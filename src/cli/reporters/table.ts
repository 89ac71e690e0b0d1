/**
 * The borderless, kubectl-like table every human-readable listing prints. Linear in its cells:
 * each cell is measured once, then each line is padded once. (cli-table3, used before, checks
 * every cell against all rows above it for row spans, which made 10,000 rows take seconds and
 * 100,000 never finish.)
 */

/** Terminal columns a string takes: colour codes take none, East Asian wide characters two. */
export function displayWidth(text: string): number {
  const plain = text.replace(SGR, '');
  if (/^[\x20-\x7e]*$/.test(plain)) return plain.length; // the common case, without a loop
  let width = 0;
  for (const ch of plain) {
    if (ZERO_WIDTH.test(ch)) continue;
    width += WIDE.test(ch) ? 2 : 1;
  }
  return width;
}

// eslint-disable-next-line no-control-regex
const SGR = /\x1b\[[0-9;]*m/g;
const ZERO_WIDTH = /^[\p{Mn}\p{Me}\p{Cf}]$/u;
const WIDE =
  /^[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}\p{Emoji_Presentation}\u3000-\u303e\uff01-\uff60\uffe0-\uffe6]$/u;

export interface TableOptions {
  /** How wide a cell line is; `displayWidth` unless a test counts the calls. */
  readonly width?: (text: string) => number;
}

/** Rows added one by one, printed by `toString()` (no trailing newline). */
export interface KubectlTable {
  push(row: readonly string[]): void;
  toString(): string;
}

/** A table with these headings; columns are as wide as their widest line, two spaces apart. */
export function kubectlTable(head: readonly string[], options: TableOptions = {}): KubectlTable {
  const width = options.width ?? displayWidth;
  const columns = head.length;
  // Every row as its cells' lines with their widths, measured as they come in.
  const rows: { lines: string[][]; widths: number[][] }[] = [];
  const widest = new Array<number>(columns).fill(0);
  const add = (row: readonly string[]): void => {
    const lines: string[][] = [];
    const widths: number[][] = [];
    for (let c = 0; c < columns; c++) {
      const cellLines = (row[c] ?? '').split('\n');
      const cellWidths = cellLines.map((l) => width(l));
      for (const w of cellWidths) if (w > widest[c]!) widest[c] = w;
      lines.push(cellLines);
      widths.push(cellWidths);
    }
    rows.push({ lines, widths });
  };
  add(head);
  return {
    push: add,
    toString(): string {
      const out: string[] = [];
      for (const { lines, widths } of rows) {
        const height = Math.max(...lines.map((l) => l.length));
        for (let i = 0; i < height; i++) {
          const cells: string[] = [];
          for (let c = 0; c < columns; c++) {
            const text = lines[c]![i] ?? '';
            const pad = widest[c]! - (widths[c]![i] ?? 0);
            cells.push(` ${text}${' '.repeat(pad)} `);
          }
          out.push(cells.join('  '));
        }
      }
      return out.join('\n');
    },
  };
}
