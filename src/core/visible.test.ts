import { describe, expect, it } from 'vitest';
import { visible } from './visible.js';

describe('visible', () => {
  it('shows escape sequences and other C0, DEL and C1 controls as \\u00XX escapes', () => {
    expect(visible('\x1b[2J\x1b[31mpwned\x1b[0m')).toBe('\\u001b[2J\\u001b[31mpwned\\u001b[0m');
    expect(visible('a\x00b\x07c\x08d\x7fe\x9bf\x85g')).toBe(
      'a\\u0000b\\u0007c\\u0008d\\u007fe\\u009bf\\u0085g',
    );
    // Printable text outside ASCII is left alone.
    expect(visible('naïve 日本 ☃ ¡\u00a0')).toBe('naïve 日本 ☃ ¡\u00a0');
  });

  it('keeps newlines, tabs and CRLF in text, newlines only in cells, nothing in lines', () => {
    const s = 'a\tb\r\nc\rd\ne';
    expect(visible(s)).toBe('a\tb\r\nc\\u000dd\ne');
    expect(visible(s, 'cell')).toBe('a\\u0009b\\u000d\nc\\u000dd\ne');
    expect(visible(s, 'line')).toBe('a\\u0009b\\u000d\\u000ac\\u000dd\\u000ae');
  });

  it('keeps a JSON line valid JSON with the same value', () => {
    const line = JSON.stringify({ name: 'del\x7f c1\x9b' });
    expect(JSON.parse(visible(line, 'line'))).toEqual({ name: 'del\x7f c1\x9b' });
  });
});
