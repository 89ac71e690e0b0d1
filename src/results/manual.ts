/**
 * Reading Item trees written as YAML: a manual plugin's own results file, and the
 * `sonobuoy_results.yaml` files `fathom results` reads. Both are untrusted: aliases are capped
 * (no alias bombs), nesting and item counts are bounded, and every field is type-checked, so a
 * bad file gives an error message, never a crash. Like yaml.v2 into Go strings, scalars in
 * `name`, `status` and `meta` values are taken as text; unknown keys are ignored.
 *
 * Files in the layout yaml.v2 and fathom write go through the fast reader (yamlfast.ts); the
 * rest, and every error, through the yaml package here.
 */
import { parseAllDocuments } from 'yaml';
import { type Item } from './item.js';
import { readCapped } from './itemfile.js';
import {
  DEFAULT_MAX_DEPTH,
  DEFAULT_MAX_ITEMS,
  DEFAULT_MAX_YAML_BYTES,
  ItemYamlError,
  parseItemYamlFast,
  type ItemYamlLimits,
} from './yamlfast.js';

export { ItemYamlError, parseItemYamlFast, readCapped, type ItemYamlLimits };

function kindOf(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a map';
  return `a ${typeof v}`;
}

function isMap(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Date);
}

function text(v: unknown, where: string): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  if (v instanceof Date) return v.toISOString();
  throw new ItemYamlError(`${where}: expected a string, got ${kindOf(v)}`);
}

/** Converts parsed YAML/JSON into an Item, checking every type. */
export function toItem(value: unknown, limits: ItemYamlLimits = {}, where = 'root'): Item {
  const maxItems = limits.maxItems ?? DEFAULT_MAX_ITEMS;
  const maxDepth = limits.maxDepth ?? DEFAULT_MAX_DEPTH;
  let count = 0;
  const details = (v: unknown, at: string, depth: number): unknown => {
    if (depth > maxDepth) throw new ItemYamlError(`${at}: nested deeper than ${maxDepth}`);
    if (Array.isArray(v)) return v.map((e, i) => details(e, `${at}[${i}]`, depth + 1));
    if (isMap(v)) {
      const out: Record<string, unknown> = {};
      for (const [k, e] of Object.entries(v)) out[k] = details(e, `${at}.${k}`, depth + 1);
      return out;
    }
    return v === undefined ? null : v;
  };
  const convert = (v: unknown, at: string, depth: number): Item => {
    if (++count > maxItems) throw new ItemYamlError(`more than ${maxItems} items`);
    if (depth > maxDepth) throw new ItemYamlError(`${at}: items nested deeper than ${maxDepth}`);
    if (v === null || v === undefined) return { name: '', status: '' };
    if (!isMap(v)) throw new ItemYamlError(`${at}: expected an item (a map), got ${kindOf(v)}`);
    const item: Item = { name: text(v.name, `${at}.name`), status: text(v.status, `${at}.status`) };
    if (v.meta !== null && v.meta !== undefined) {
      if (!isMap(v.meta))
        throw new ItemYamlError(`${at}.meta: expected a map of strings, got ${kindOf(v.meta)}`);
      const meta: Record<string, string> = {};
      for (const [k, e] of Object.entries(v.meta)) meta[k] = text(e, `${at}.meta.${k}`);
      if (Object.keys(meta).length > 0) item.meta = meta;
    }
    if (v.details !== null && v.details !== undefined) {
      if (!isMap(v.details))
        throw new ItemYamlError(`${at}.details: expected a map, got ${kindOf(v.details)}`);
      const d = details(v.details, `${at}.details`, depth) as Record<string, unknown>;
      if (Object.keys(d).length > 0) item.details = d;
    }
    if (v.items !== null && v.items !== undefined) {
      if (!Array.isArray(v.items))
        throw new ItemYamlError(`${at}.items: expected a list, got ${kindOf(v.items)}`);
      const items = v.items.map((e, i) => convert(e, `${at}.items[${i}]`, depth + 1));
      if (items.length > 0) item.items = items;
    }
    return item;
  };
  return convert(value, where, 0);
}

/** Parses YAML text holding one Item (the first document, as yaml.v2's decoder reads). */
export function parseItemYaml(source: string, limits: ItemYamlLimits = {}): Item {
  return parseItemYamlFast(source, limits) ?? parseItemYamlGeneric(source, limits);
}

/** `parseItemYaml` with the yaml package alone: any YAML, and the error messages. */
export function parseItemYamlGeneric(source: string, limits: ItemYamlLimits = {}): Item {
  let docs;
  try {
    docs = parseAllDocuments(source, { uniqueKeys: false, prettyErrors: true });
  } catch (err) {
    throw new ItemYamlError(`invalid YAML: ${(err as Error).message}`);
  }
  const doc = Array.isArray(docs) ? docs[0] : undefined;
  if (!doc) throw new ItemYamlError('EOF: the file holds no YAML document');
  const problem = doc.errors[0];
  if (problem) throw new ItemYamlError(`invalid YAML: ${problem.message.split('\n')[0]!}`);
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: limits.maxAliasCount ?? 1000 });
  } catch (err) {
    throw new ItemYamlError(`invalid YAML: ${(err as Error).message}`);
  }
  return toItem(value, limits);
}

/** Reads a YAML file holding one Item. Throws `ItemYamlError` (or an I/O error). */
export async function readItemYaml(file: string, limits: ItemYamlLimits = {}): Promise<Item> {
  return parseItemYaml(await readCapped(file, limits.maxBytes ?? DEFAULT_MAX_YAML_BYTES), limits);
}

/**
 * A manual plugin's results file under `file` (the file item): the plugin's own root name and meta
 * are dropped; its status, details and items go under the file item. A bad file leaves the file
 * item unknown with `meta.error`.
 */
export async function readManual(
  path: string,
  file: Item,
  limits: ItemYamlLimits = {},
): Promise<Item> {
  try {
    const own = await readItemYaml(path, { maxBytes: 64 * 1024 * 1024, ...limits });
    file.status = own.status;
    if (own.details) file.details = own.details;
    if (own.items) file.items = own.items;
  } catch (err) {
    file.status = 'unknown';
    file.meta = {
      ...file.meta,
      error: `failed to parse yaml results object provided by plugin: ${(err as Error).message}`,
    };
  }
  return file;
}
