/**
 * `go test -json` (test2json) streams → Item, streaming. Each pass/fail/skip event that names a
 * test becomes a leaf in stream order (any other action with a test name → unknown; run, pause,
 * cont, output and bench are skipped). Keys match case-insensitively, as Go's decoder does.
 *
 * Sonobuoy stops at the first undecodable value; fathom records that first error in `meta.error`
 * (the file item is `unknown` at parse time, as in Sonobuoy) but skips to the next line and keeps
 * reading, so one stray line of plain output does not hide the rest of the run. Values are
 * delimited by a byte scanner, so memory is bounded by the largest single event, not the file.
 */
import { type Item, STATUS_FAILED, STATUS_PASSED, STATUS_SKIPPED, STATUS_UNKNOWN } from './item.js';

export interface GojsonLimits {
  /** Largest single JSON event (default 4 MiB); larger ones are skipped and reported. */
  maxEventBytes?: number;
  /** Most test leaves in one file (default 1,000,000). */
  maxItems?: number;
}

const skipped = new Set(['run', 'pause', 'cont', 'output', 'bench']);
const MAX_DEPTH = 512;

function describeByte(b: number): string {
  const ch = String.fromCharCode(b);
  return b >= 0x20 && b < 0x7f
    ? `'${ch === "'" ? "\\'" : ch}'`
    : `'\\x${b.toString(16).padStart(2, '0')}'`;
}

/** A test2json event as a leaf, `undefined` when it makes none, or an error message. */
export function eventToItem(value: unknown): Item | undefined | { error: string } {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return {
      error: `json: cannot unmarshal ${Array.isArray(value) ? 'array' : typeof value} into Go value of type results.testEvent`,
    };
  }
  let action = '';
  let test = '';
  for (const [k, v] of Object.entries(value)) {
    const key = k.toLowerCase();
    if (key !== 'action' && key !== 'test') continue;
    if (v === null) continue;
    if (typeof v !== 'string') {
      const field = key === 'action' ? 'Action' : 'Test';
      return {
        error: `json: cannot unmarshal ${typeof v} into Go struct field testEvent.${field} of type string`,
      };
    }
    if (key === 'action') action = v;
    else test = v;
  }
  if (skipped.has(action) || test === '') return undefined;
  const status =
    action === 'pass'
      ? STATUS_PASSED
      : action === 'fail'
        ? STATUS_FAILED
        : action === 'skip'
          ? STATUS_SKIPPED
          : STATUS_UNKNOWN;
  return { name: test, status };
}

/**
 * Reads a test2json stream from `source` into `file` (already named, with its meta). Never throws
 * for bad input.
 */
export async function readGojson(
  source: AsyncIterable<Uint8Array | string>,
  file: Item,
  limits: GojsonLimits = {},
): Promise<Item> {
  const maxEvent = limits.maxEventBytes ?? 4 * 1024 * 1024;
  const maxItems = limits.maxItems ?? 1_000_000;
  const items: Item[] = [];
  const decoder = new TextDecoder('utf-8');
  let firstError: string | undefined;
  const note = (msg: string): void => {
    firstError ??= msg;
  };

  let state: 'between' | 'value' | 'skipLine' = 'between';
  let depth = 0;
  let inString = false;
  let escape = false;
  let parts: Uint8Array[] = [];
  let size = 0;
  let oversize = false;
  let full = false;

  const finishValue = (): void => {
    if (oversize) {
      note(`event larger than ${maxEvent} bytes skipped`);
    } else {
      let parsed: unknown;
      try {
        parsed = JSON.parse(decoder.decode(concat(parts, size)));
      } catch (err) {
        note((err as Error).message);
        parsed = undefined;
      }
      if (parsed !== undefined) {
        const r = eventToItem(parsed);
        if (r && 'error' in r) note(r.error);
        else if (r) {
          if (items.length >= maxItems) {
            note(`more than ${maxItems} test events`);
            full = true;
          } else items.push(r);
        }
      }
    }
    parts = [];
    size = 0;
    oversize = false;
  };

  try {
    outer: for await (const raw of source) {
      const chunk = typeof raw === 'string' ? Buffer.from(raw) : raw;
      let start = 0; // where the current value's bytes begin in this chunk
      for (let i = 0; i < chunk.length; i++) {
        const b = chunk[i]!;
        if (state === 'skipLine') {
          if (b === 0x0a) state = 'between';
          continue;
        }
        if (state === 'between') {
          if (b === 0x20 || b === 0x09 || b === 0x0a || b === 0x0d) continue;
          if (b !== 0x7b) {
            note(`invalid character ${describeByte(b)} looking for beginning of value`);
            state = 'skipLine';
            continue;
          }
          state = 'value';
          depth = 0;
          inString = false;
          escape = false;
          start = i;
        }
        // state === 'value'
        if (inString) {
          if (escape) escape = false;
          else if (b === 0x5c) escape = true;
          else if (b === 0x22) inString = false;
          continue;
        }
        if (b === 0x22) inString = true;
        else if (b === 0x7b || b === 0x5b) {
          if (++depth > MAX_DEPTH) {
            note(`event nested deeper than ${MAX_DEPTH}`);
            parts = [];
            size = 0;
            oversize = false;
            state = 'skipLine';
          }
        } else if (b === 0x7d || b === 0x5d) {
          if (--depth === 0) {
            take(chunk.subarray(start, i + 1));
            finishValue();
            state = 'between';
            if (full) break outer;
          }
        }
      }
      if (state === 'value') take(chunk.subarray(start));
    }
  } catch (err) {
    note((err as Error).message);
  }
  if (state === 'value' && !full) note('unexpected EOF');

  function take(bytes: Uint8Array): void {
    if (oversize || bytes.length === 0) return;
    if (size + bytes.length > maxEvent) {
      oversize = true;
      parts = [];
      size = 0;
      return;
    }
    // Copy: the stream may reuse its buffers.
    parts.push(Uint8Array.prototype.slice.call(bytes));
    size += bytes.length;
  }

  file.status = firstError === undefined ? STATUS_PASSED : STATUS_UNKNOWN;
  if (firstError !== undefined) file.meta = { ...file.meta, error: firstError };
  if (items.length > 0) file.items = items;
  return file;
}

function concat(parts: Uint8Array[], size: number): Uint8Array {
  if (parts.length === 1) return parts[0]!;
  const out = new Uint8Array(size);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
