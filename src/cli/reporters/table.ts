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
  // Flat, one entry per cell, measured as rows come in (100,000 rows: no object per cell).
  const cells: string[] = [];
  const widths: number[] = [];
  // The few cells of several lines: their lines and widths, by cell index.
  const multi = new Map<number, { lines: string[]; widths: number[] }>();
  const widest = new Array<number>(columns).fill(0);
  const add = (row: readonly string[]): void => {
    for (let c = 0; c < columns; c++) {
      const text = row[c] ?? '';
      let w: number;
      if (text.includes('\n')) {
        const lines = text.split('\n');
        const ws = lines.map((l) => width(l));
        multi.set(cells.length, { lines, widths: ws });
        w = Math.max(...ws);
      } else {
        w = width(text);
      }
      if (w > widest[c]!) widest[c] = w;
      cells.push(text);
      widths.push(w);
    }
  };
  add(head);
  const pad = (text: string, w: number, c: number): string =>
    ` ${text}${' '.repeat(widest[c]! - w)} `;
  return {
    push: add,
    toString(): string {
      const out: string[] = [];
      for (let start = 0; start < cells.length; start += columns) {
        let height = 1;
        for (let c = 0; c < columns; c++) {
          height = Math.max(height, multi.get(start + c)?.lines.length ?? 1);
        }
        for (let i = 0; i < height; i++) {
          const line: string[] = [];
          for (let c = 0; c < columns; c++) {
            const m = multi.get(start + c);
            if (m) line.push(pad(m.lines[i] ?? '', m.widths[i] ?? 0, c));
            else line.push(i === 0 ? pad(cells[start + c]!, widths[start + c]!, c) : pad('', 0, c));
          }
          out.push(line.join('  '));
        }
      }
      return out.join('\n');
    },
  };
}
