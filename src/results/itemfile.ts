/**
 * Reading result files without loading the yaml package up front: `fathom results` starts
 * faster when a tree in the usual layout never needs it. The generic parser (manual.ts) is
 * imported only for a file the fast reader steps aside from.
 */
import { open } from 'node:fs/promises';
import type { Item } from './item.js';
import {
  DEFAULT_MAX_YAML_BYTES,
  ItemYamlError,
  parseItemYamlFast,
  type ItemYamlLimits,
} from './yamlfast.js';

/** Reads a file of at most `maxBytes` as UTF-8 (invalid bytes become U+FFFD). */
export async function readCapped(file: string, maxBytes: number): Promise<string> {
  const fh = await open(file, 'r');
  try {
    const { size } = await fh.stat();
    if (size > maxBytes)
      throw new ItemYamlError(`file is ${size} bytes, more than the ${maxBytes} allowed`);
    const buf = Buffer.alloc(size);
    let at = 0;
    while (at < size) {
      const { bytesRead } = await fh.read(buf, at, size - at, at);
      if (bytesRead === 0) break;
      at += bytesRead;
    }
    return buf.subarray(0, at).toString('utf8');
  } finally {
    await fh.close();
  }
}

/** `parseItemYaml`, loading the generic parser only when the fast reader steps aside. */
export async function parseItemYamlText(
  source: string,
  limits: ItemYamlLimits = {},
): Promise<Item> {
  const fast = parseItemYamlFast(source, limits);
  if (fast) return fast;
  const { parseItemYamlGeneric } = await import('./manual.js');
  return parseItemYamlGeneric(source, limits);
}

/** `readItemYaml` (a YAML file holding one Item), loading the generic parser only if needed. */
export async function readItemYamlFile(file: string, limits: ItemYamlLimits = {}): Promise<Item> {
  return parseItemYamlText(
    await readCapped(file, limits.maxBytes ?? DEFAULT_MAX_YAML_BYTES),
    limits,
  );
}
