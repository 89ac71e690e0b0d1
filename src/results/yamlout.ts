/**
 * Writes an Item tree as YAML in the layout Sonobuoy's yaml.v2 produces: keys in the order
 * name, status, meta, details, items; map keys sorted; sequences not indented under their key.
 * Hand-rolled and streaming because an e2e tree has thousands of items and the yaml package
 * would build a node for each one first. Strings are plain only when plainly safe for YAML 1.1
 * and 1.2 readers alike, otherwise double-quoted with escapes.
 */
import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { once } from 'node:events';
import { compareStrings, type Item } from './item.js';

const reserved = /^(?:~|null|true|false|yes|no|on|off|y|n|=|<<)$/i;

function isPlainSafe(s: string): boolean {
  return (
    s !== '' &&
    /^[\x21-\x7e\u00a0-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd]/.test(s) &&
    /^[\x20-\x7e\u00a0-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd]*$/.test(s) &&
    !s.endsWith(' ') &&
    !/^[-?:,[\]{}#&*!|>'"%@`]/.test(s) &&
    !/: |:$| #/.test(s) &&
    !reserved.test(s) &&
    !/^[-+.]?[0-9]/.test(s) &&
    !/^[-+]?\.(?:inf|nan)$/i.test(s) &&
    !s.startsWith('...')
  );
}

/** A YAML scalar for a string. */
export function yamlString(s: string): string {
  if (isPlainSafe(s)) return s;
  return JSON.stringify(s).replace(
    /[\u007f-\u009f\u2028\u2029\ufeff]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

function scalar(v: unknown): string | undefined {
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'string') return yamlString(v);
  if (typeof v === 'number') {
    if (Number.isNaN(v)) return '.nan';
    if (!Number.isFinite(v)) return v > 0 ? '.inf' : '-.inf';
    return String(v);
  }
  if (typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  if (v instanceof Date) return yamlString(v.toISOString());
  if (Array.isArray(v)) return v.length === 0 ? '[]' : undefined;
  if (typeof v === 'object') return Object.keys(v).length === 0 ? '{}' : undefined;
  return 'null'; // functions and symbols do not occur in parsed data
}

function sortedKeys(obj: object): string[] {
  return Object.keys(obj).sort(compareStrings);
}

/** `key: value` lines of a map at indentation `ind`. */
function mapLines(obj: Record<string, unknown>, ind: string, out: string[]): void {
  for (const k of sortedKeys(obj)) {
    const v = obj[k];
    const s = scalar(v);
    if (s !== undefined) {
      out.push(`${ind}${yamlString(k)}: ${s}\n`);
    } else if (Array.isArray(v)) {
      out.push(`${ind}${yamlString(k)}:\n`);
      listLines(v, ind, out);
    } else {
      out.push(`${ind}${yamlString(k)}:\n`);
      mapLines(v as Record<string, unknown>, `${ind}  `, out);
    }
  }
}

function listLines(arr: readonly unknown[], ind: string, out: string[]): void {
  for (const v of arr) {
    const s = scalar(v);
    if (s !== undefined) {
      out.push(`${ind}- ${s}\n`);
      continue;
    }
    const inner: string[] = [];
    if (Array.isArray(v)) listLines(v, `${ind}  `, inner);
    else mapLines(v as Record<string, unknown>, `${ind}  `, inner);
    // The first line of a nested block sits on the dash.
    inner[0] = `${ind}- ${inner[0]!.slice(ind.length + 2)}`;
    out.push(...inner);
  }
}

/** YAML lines of one item; `first` prefixes its first line (the dash for list entries). */
function* itemLines(item: Item, first: string, ind: string): Generator<string> {
  yield `${first}name: ${yamlString(item.name)}\n`;
  yield `${ind}status: ${yamlString(item.status)}\n`;
  if (item.meta && Object.keys(item.meta).length > 0) {
    const out: string[] = [`${ind}meta:\n`];
    mapLines(item.meta, `${ind}  `, out);
    yield out.join('');
  }
  if (item.details && Object.keys(item.details).length > 0) {
    const out: string[] = [`${ind}details:\n`];
    mapLines(item.details, `${ind}  `, out);
    yield out.join('');
  }
  if (item.items && item.items.length > 0) {
    yield `${ind}items:\n`;
    for (const child of item.items) yield* itemLines(child, `${ind}- `, `${ind}  `);
  }
}

/** The whole tree as one YAML string (for small trees and tests). */
export function itemToYaml(item: Item): string {
  return [...itemLines(item, '', '')].join('');
}

/** Streams the tree to `file`, replacing it atomically. */
export async function writeItemYaml(item: Item, file: string): Promise<void> {
  const partial = `${file}.partial-${process.pid}`;
  const ws = createWriteStream(partial);
  try {
    let batch = '';
    for (const piece of itemLines(item, '', '')) {
      batch += piece;
      if (batch.length >= 64 * 1024) {
        if (!ws.write(batch)) await once(ws, 'drain');
        batch = '';
      }
    }
    ws.end(batch);
    await once(ws, 'close');
    await rename(partial, file);
  } catch (err) {
    ws.destroy();
    await rm(partial, { force: true });
    throw err;
  }
}
