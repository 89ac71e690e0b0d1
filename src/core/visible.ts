/**
 * Text from plugins, results and the network made safe to print on a terminal: every control
 * character (C0, DEL, C1) is shown as its `\u00XX` escape, so an escape sequence in a test name
 * cannot move the cursor, recolour or rewrite the screen. `\u00XX` rather than `\x1b` or `^[`
 * because it is also a JSON escape: a JSON line printed for people (`results -m detailed`) stays
 * valid JSON with the same value. Machine output (`-o json|yaml`, dumps) never goes through here.
 */

/**
 * What is left as is: `text` keeps newlines, tabs and CRLF line ends (multi-line output);
 * `cell` keeps newlines (a table cell's lines; a tab would break the columns); `line` keeps
 * nothing (one line per record).
 */
export type VisibleMode = 'text' | 'cell' | 'line';

// C0 controls, DEL and C1 controls; \r\n is matched as a pair so `text` can keep it.
// eslint-disable-next-line no-control-regex
const CONTROLS = /\r\n|[\x00-\x1f\x7f-\x9f]/g;

const escape = (c: string): string => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;

/** `text` with its control characters made visible (see VisibleMode for what each mode keeps). */
export function visible(text: string, mode: VisibleMode = 'text'): string {
  // Most text has none: one test, no new string.
  CONTROLS.lastIndex = 0;
  if (!CONTROLS.test(text)) return text;
  CONTROLS.lastIndex = 0;
  return text.replace(CONTROLS, (c) => {
    if (c === '\r\n') return mode === 'text' ? c : mode === 'cell' ? '\\u000d\n' : '\\u000d\\u000a';
    if (c === '\n' && mode !== 'line') return c;
    if (c === '\t' && mode === 'text') return c;
    return escape(c);
  });
}
