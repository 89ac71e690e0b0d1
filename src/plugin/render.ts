import { Document, isScalar, parseDocument, visit } from 'yaml';

/**
 * go-yaml v2's key order, which Sonobuoy's output follows: letters compare by code point,
 * any non-letter sorts before a letter, and runs of digits compare as numbers.
 */
export function goKeyLess(a: string, b: string): boolean {
  const ar = [...a];
  const br = [...b];
  const letter = (c: string): boolean => /\p{L}/u.test(c);
  const digit = (c: string | undefined): boolean => c !== undefined && c >= '0' && c <= '9';
  for (let i = 0; i < ar.length && i < br.length; i++) {
    const x = ar[i]!;
    const y = br[i]!;
    if (x === y) continue;
    const xl = letter(x);
    const yl = letter(y);
    if (xl && yl) return x < y;
    if (xl || yl) return yl;
    let an = 0n;
    let bn = 0n;
    if (x === '0' || y === '0') {
      for (let j = i - 1; j >= 0 && digit(ar[j]); j--) {
        if (ar[j] !== '0') {
          an = 1n;
          bn = 1n;
          break;
        }
      }
    }
    let ai = i;
    let bi = i;
    for (; ai < ar.length && digit(ar[ai]); ai++)
      an = an * 10n + BigInt(ar[ai]!.charCodeAt(0) - 48);
    for (; bi < br.length && digit(br[bi]); bi++)
      bn = bn * 10n + BigInt(br[bi]!.charCodeAt(0) - 48);
    if (an !== bn) return an < bn;
    if (ai !== bi) return ai < bi;
    return x < y;
  }
  return ar.length < br.length;
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value === null || typeof value !== 'object') return value;
  const keys = Object.keys(value).sort((a, b) => (goKeyLess(a, b) ? -1 : goKeyLess(b, a) ? 1 : 0));
  return Object.fromEntries(keys.map((k) => [k, sortKeys((value as Record<string, unknown>)[k])]));
}

/** True when a plain scalar would not read back as this string under YAML 1.1 (`n`, `yes`, `1:20`, ``). */
function needsDoubleQuotes(s: string): boolean {
  if (s === '') return true;
  const doc = parseDocument(s, { version: '1.1' });
  return (
    doc.errors.length === 0 && isScalar(doc.contents) && typeof doc.contents.value !== 'string'
  );
}

/**
 * Serialises a manifest as Sonobuoy prints one (go-yaml v2 by way of JSON): keys sorted,
 * block style, sequences not indented under their key, strings that YAML 1.1 would read as
 * something else double-quoted, other strings needing quotes single-quoted, multi-line
 * strings as literal blocks.
 */
export function renderGoYaml(value: unknown): string {
  const doc = new Document(sortKeys(value), { version: '1.1' });
  visit(doc, {
    Scalar(_, node) {
      if (typeof node.value !== 'string') return;
      if (node.value.includes('\n')) node.type = 'BLOCK_LITERAL';
      else if (needsDoubleQuotes(node.value)) node.type = 'QUOTE_DOUBLE';
    },
  });
  return doc.toString({ indentSeq: false, singleQuote: true, lineWidth: 80 });
}
