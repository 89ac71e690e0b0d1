/** Messages of check runs: one line, bounded, nothing that could drive a terminal. */

/** Characters kept of a run's message (the original's service check messages are short too). */
export const MAX_MESSAGE_CHARS = 500;

const ESCAPES: Readonly<Record<string, string>> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/**
 * `text` as one line of at most `max` characters: control characters (C0, DEL, C1) escaped
 * as `\n` or `\xNN`, the end cut with `…` when too long.
 */
export function oneLine(text: string, max = MAX_MESSAGE_CHARS): string {
  // eslint-disable-next-line no-control-regex
  const escaped = text.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => {
    return ESCAPES[c] ?? `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`;
  });
  if (escaped.length <= max) return escaped;
  // Cut on a code point, not inside a surrogate pair; the ellipsis counts.
  let cut = '';
  for (const ch of escaped) {
    if (cut.length + ch.length > max - 1) break;
    cut += ch;
  }
  return `${cut}…`;
}

/** The last line of `text` with something on it ('' for none), as one bounded line. */
export function lastLine(text: string, max = MAX_MESSAGE_CHARS): string {
  const lines = text.split('\n');
  for (let i = lines.length - 1; i >= 0; i--) {
    const line = lines[i]!.replace(/\r$/, '').trim();
    if (line !== '') return oneLine(line, max);
  }
  return '';
}
