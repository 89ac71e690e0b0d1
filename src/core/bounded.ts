/**
 * Reading untrusted input within bounds: a stream or file read up to a byte limit, YAML counted
 * before it is built, JSON sized by a budget walk. Shared by plugin files, the cluster file and
 * check configs.
 */
import { createReadStream } from 'node:fs';
import { CST, Lexer } from 'yaml';

export const KiB = 1024;
export const MiB = 1024 * KiB;

/** `2 MiB`, `64 KiB`, `100 bytes`. */
export function formatBytes(n: number): string {
  if (n >= MiB && n % MiB === 0) return `${n / MiB} MiB`;
  if (n >= KiB && n % KiB === 0) return `${n / KiB} KiB`;
  return `${n} bytes`;
}

/**
 * Collects a byte stream, giving up (undefined) as soon as it holds more than `limit` bytes,
 * so an endless or huge input is never held in memory.
 */
export async function collectAtMost(
  chunks: AsyncIterable<Buffer | string> | Iterable<Buffer | string>,
  limit: number,
): Promise<Buffer | undefined> {
  const parts: Buffer[] = [];
  let total = 0;
  for await (const chunk of chunks) {
    const buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    total += buf.length;
    if (total > limit) return undefined; // leaving the loop closes the stream
    parts.push(buf);
  }
  return Buffer.concat(parts, total);
}

/**
 * Reads at most `limit + 1` bytes of a file (a FIFO or /dev/zero included); undefined when it
 * holds more than `limit`. Errors from opening the file are the caller's to word.
 */
export function readFileAtMost(file: string, limit: number): Promise<Buffer | undefined> {
  return collectAtMost(createReadStream(file, { end: limit }) as AsyncIterable<Buffer>, limit);
}

const nodeTokens: ReadonlySet<string> = new Set([
  'scalar',
  'single-quoted-scalar',
  'double-quoted-scalar',
  'alias',
  'flow-map-start',
  'flow-seq-start',
  'seq-item-ind',
  'explicit-key-ind',
  'map-value-ind',
]);

/**
 * Counts YAML documents and nodes with the yaml library's streaming lexer, before anything
 * is built, and names the first limit crossed (it stops there).
 */
export function yamlShapeProblem(
  text: string,
  maxDocuments: number,
  maxNodes: number,
): 'documents' | 'nodes' | undefined {
  let documents = 0;
  let open = false; // whether content now belongs to a counted document
  let nodes = 0;
  for (const token of new Lexer().lex(text)) {
    const type = CST.tokenType(token);
    if (type === 'doc-start') {
      documents++;
      open = true;
    } else if (type === 'doc-end') {
      open = false;
    } else if (type !== null && (nodeTokens.has(type) || type === 'anchor' || type === 'tag')) {
      if (!open) documents++;
      open = true;
      if (nodeTokens.has(type)) nodes++;
    }
    if (documents > maxDocuments) return 'documents';
    if (nodes > maxNodes) return 'nodes';
  }
  return undefined;
}

/** Why a value's JSON encoding is too big or too deep, as a budget walk found it. */
export type JsonSizeProblem = 'bytes' | 'depth';

/**
 * The size in bytes of `JSON.stringify(value, null, 2)` written at nesting `baseDepth`, or the
 * limit it crosses first. Stops early, so aliases that expand a small document a hundredfold
 * cost no more than the budget. Values are plain data from YAML (no cycles, no functions).
 */
export function jsonSize(
  value: unknown,
  budget: number,
  maxDepth: number,
  baseDepth = 0,
): number | JsonSizeProblem {
  let used = 0;
  const walk = (v: unknown, depth: number): JsonSizeProblem | undefined => {
    if (v === null || typeof v !== 'object') {
      used += typeof v === 'string' ? Buffer.byteLength(JSON.stringify(v)) : String(v).length;
      return used > budget ? 'bytes' : undefined;
    }
    if (depth - baseDepth >= maxDepth) return 'depth';
    const entries: [string | undefined, unknown][] = Array.isArray(v)
      ? v.map((item): [undefined, unknown] => [undefined, item])
      : Object.entries(v);
    // Brackets, the closing line's newline and indentation, and per entry a newline,
    // indentation, `"key": ` and a comma (one fewer: the closing newline pays for it).
    used += 2 + (entries.length > 0 ? 2 * depth : 0);
    for (const [key, item] of entries) {
      used += 2 + 2 * (depth + 1);
      if (key !== undefined) used += Buffer.byteLength(JSON.stringify(key)) + 2;
      const problem = walk(item, depth + 1);
      if (problem) return problem;
    }
    return used > budget ? 'bytes' : undefined;
  };
  return walk(value, baseDepth) ?? used;
}
