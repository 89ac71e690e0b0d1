/** Escaping for text that comes from results: test names, messages and file names are hostile. */

const entities: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/**
 * Text safe in HTML element content and in quoted attribute values. NUL and other C0 controls
 * but tab, newline and carriage return become U+FFFD, as the HTML parser would treat them anyway.
 */
export function escapeHtml(text: string): string {
  return text
    .replace(/[&<>"']/g, (c) => entities[c]!)
    .replace(/[^\t\n\r\x20-\x7e\x80-\uffff]/g, '\ufffd');
}

/** Cuts `text` to `max` characters, saying how much was left out. */
export function truncate(text: string, max: number): { text: string; omitted: number } {
  if (text.length <= max) return { text, omitted: 0 };
  return { text: text.slice(0, max), omitted: text.length - max };
}
