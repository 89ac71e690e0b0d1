/**
 * Redrawing a block of text in place on a terminal: back to the first row of the block drawn
 * last, clear to the end of the screen, write the new block. Shared by `fathom health --watch`
 * and `fathom session submit --wait`. Rows are counted with wrapping at the terminal's width,
 * so a line longer than the terminal does not leave stale rows behind.
 */

// eslint-disable-next-line no-control-regex
const ansi = /\x1b\[[0-9;]*[A-Za-z]/g;

/** Terminal rows `text` takes, counting lines that wrap at `columns`. */
export function rowsOf(text: string, columns: number | undefined): number {
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  const width = columns && columns > 0 ? columns : Infinity;
  return lines.reduce(
    (n, line) => n + Math.max(1, Math.ceil(line.replace(ansi, '').length / width)),
    0,
  );
}

export interface Redraw {
  /** Replaces the block drawn last (nothing the first time) with `text`. */
  draw(text: string): void;
}

export function createRedraw(write: (text: string) => void, columns?: number): Redraw {
  let drawnRows = 0;
  return {
    draw(text) {
      const back = drawnRows ? `\r\x1b[${drawnRows}A\x1b[J` : '';
      write(back + text);
      drawnRows = rowsOf(text, columns);
    },
  };
}
