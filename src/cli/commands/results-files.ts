/**
 * How `fathom results` prints the files of a run: in pieces, waiting for the output to have room,
 * so that memory does not grow with their size. Reading them is the results reader's
 * (src/results/reader.ts).
 */
import { readableText } from '../../results/read.js';
import type { Pieces, ResultsReader } from '../../results/reader.js';
import type { Io } from '../context.js';

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

/**
 * Prints a leaf's file after `prefix`, the file checked to exist before anything of it is printed
 * (as Sonobuoy does).
 */
export async function printLeafFile(
  io: Io,
  reader: ResultsReader,
  plugin: string,
  file: string,
  prefix: string,
): Promise<void> {
  const pieces = await reader.leafFile(plugin, file);
  if (prefix) io.out(prefix);
  await copyText(pieces, io);
}
