/**
 * How `fathom results` prints the files of a run: in pieces, waiting for the output to have room,
 * so that memory does not grow with their size; and, for detailed text output of a tarball,
 * which files to read from it at all.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { StringDecoder } from 'node:string_decoder';
import { FathomError } from '../../core/errors.js';
import { readArchive, type ArchiveLimits, type ResultsArchive } from '../../results/archive.js';
import {
  detailedLeaves,
  readableText,
  readPluginResults,
  resolveLeafFile,
  resolveLeafPath,
  type ResultsRoot,
} from '../../results/read.js';
import type { Io } from '../context.js';

/** Text in pieces, to be printed as they come. */
export type Pieces = Iterable<string> | AsyncIterable<string>;

/** Copies pieces of text to the output, waiting for room between them. */
export async function copyText(pieces: Pieces, io: Io): Promise<void> {
  for await (const text of pieces) {
    io.out(text);
    await io.drain?.();
  }
}

/** `readableText` over pieces: a backslash ending a piece waits for the next one. */
export async function* readablePieces(pieces: Pieces): AsyncGenerator<string> {
  let held = '';
  for await (const piece of pieces) {
    const text = held + piece;
    held = text.endsWith('\\') ? '\\' : '';
    yield readableText(held ? text.slice(0, -1) : text);
  }
  if (held) yield held;
}

/** A file in pieces, decoding UTF-8 across their boundaries. */
export async function* fileText(path: string): AsyncGenerator<string> {
  const decoder = new StringDecoder('utf8');
  for await (const chunk of createReadStream(path)) yield decoder.write(chunk as Buffer);
  const tail = decoder.end();
  if (tail) yield tail;
}

/**
 * Prints a leaf's file after `prefix`, the file checked to exist before anything of it is printed
 * (as Sonobuoy does).
 */
export async function printLeafFile(
  io: Io,
  root: ResultsRoot,
  plugin: string,
  file: string,
  prefix: string,
): Promise<void> {
  const missing = (): FathomError =>
    new FathomError(
      'FATHOM_RESULTS_INVALID',
      `failed to find file "plugins/${plugin}/${file}" in archive`,
      { details: { plugin, file } },
    );
  if (typeof root !== 'string') {
    const rel = resolveLeafPath(plugin, file);
    if (!root.stat(rel)?.isFile) throw missing();
    if (prefix) io.out(prefix);
    return copyText(root.chunks(rel), io);
  }
  const path = resolveLeafFile(root, plugin, file);
  const st = await stat(path).catch(() => undefined);
  if (!st?.isFile()) throw missing();
  if (prefix) io.out(prefix);
  await copyText(fileText(path), io);
}

/**
 * Detailed text output: the files the plugins' trees name (trees that cannot be read name none;
 * their error is reported when their turn comes), read from the tarball in a second pass.
 */
export async function leafFiles(
  path: string,
  archive: ResultsArchive,
  plugins: string[],
  limits: ArchiveLimits,
): Promise<ResultsArchive | undefined> {
  const named = new Set<string>();
  for (const plugin of plugins) {
    const tree = await readPluginResults(archive, plugin).catch(() => undefined);
    if (!tree) continue;
    for (const leaf of detailedLeaves(tree)) {
      if (!leaf.file) continue;
      try {
        named.add(resolveLeafPath(plugin, leaf.file));
      } catch {
        // Refused again, with its error, when the leaf is printed.
      }
    }
  }
  if (named.size === 0) return undefined;
  return readArchive(path, (rel) => named.has(rel), limits);
}
