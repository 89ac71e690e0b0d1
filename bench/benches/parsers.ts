/**
 * Issue 9, item 3: the hand-written readers against the packages they stand in for, on the same
 * inputs in one process, interleaved so that machine noise falls on both alike.
 *
 * - tar: `bench/lib/tarstream.ts` (the push parser `fathom results` once used) against the `tar`
 *   package's `Parser`, which fathom now uses. Each reads a results tarball from disk through
 *   gunzip and takes every entry's bytes, as reading a results tarball does; a second figure
 *   feeds the already-decompressed tar from memory, the parser alone.
 * - YAML: `parseItemYamlFast` (src/results/yamlfast.ts) against the `yaml` package plus `toItem`
 *   (what the fast reader steps aside to), on the sonobuoy_results.yaml files of real and
 *   generated runs; both build the same Item, which is checked first.
 */
import { createReadStream, existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { isDeepStrictEqual } from 'node:util';
import { createGunzip, gunzipSync } from 'node:zlib';
import { Parser } from 'tar';
import { parseItemYamlGeneric } from '../../src/results/manual.js';
import { readArchive } from '../../src/results/archive.js';
import { parseItemYamlFast } from '../../src/results/yamlfast.js';
import type { TarReadChildMessage } from '../children/tar-read.js';
import { forkChild, REPO_ROOT, stats } from '../lib/measure.js';
import { bytes, ms, type Bench, type BenchResult, type Cell } from '../lib/report.js';
import { largeSonobuoyTarball, manyNodesTarball } from '../lib/tarball.js';
import { TarReader } from '../lib/tarstream.js';

/** Samples per reader and input; each sample repeats the read until it took at least MIN_SAMPLE_MS. */
const SAMPLES = 7;
const MIN_SAMPLE_MS = 150;
/** The yaml package takes seconds on the large files: fewer samples there. */
const YAML_SAMPLES = 3;
const COLD_REPS = 10;
const CHILD = new URL('../children/tar-read.js', import.meta.url);
const SONOBUOY = join(REPO_ROOT, '..', 'shared', 'conformance', 'sonobuoy');
const REAL_TARBALLS = [
  join(SONOBUOY, 'cmd', 'sonobuoy', 'app', 'testdata', 'testResultsOutput.tar.gz'),
  ...['results-quick-no-failures', 'results-4-e2e-failures', 'results-missing-e2e'].map((n) =>
    join(SONOBUOY, 'test', 'integration', 'testdata', `${n}.tar.gz`),
  ),
];

interface Input {
  label: string;
  file: string;
}

/** Interleaves two measurements sample by sample; returns each one's per-call times. */
async function sideBySide(
  a: () => unknown,
  b: () => unknown,
  samples = SAMPLES,
): Promise<[number[], number[]]> {
  const ta: number[] = [];
  const tb: number[] = [];
  for (let i = 0; i < samples; i++) {
    ta.push(...(await perCall1(a)));
    tb.push(...(await perCall1(b)));
  }
  return [ta, tb];
}

async function perCall1(fn: () => unknown): Promise<number[]> {
  if (!warmed.has(fn)) {
    warmed.add(fn);
    await fn();
  }
  let calls = 0;
  const start = performance.now();
  while (performance.now() - start < MIN_SAMPLE_MS || calls === 0) {
    await fn();
    calls++;
  }
  return [(performance.now() - start) / calls];
}
const warmed = new WeakSet<object>();

/** Every entry's bytes through the hand-written reader; returns entries and content bytes. */
function handWritten(): { write(c: Buffer): void; end(): { entries: number; bytes: number } } {
  let entries = 0;
  let total = 0;
  const reader = new TarReader({
    entry: () => (entries++, true),
    data: (c) => void (total += c.length),
    end: () => undefined,
  });
  return {
    write: (c) => {
      if (!reader.ended) reader.write(c);
    },
    end: () => (reader.end(), { entries, bytes: total }),
  };
}

/** The same through the tar package's Parser (strict, as fathom uses it). */
function tarPackage(): {
  write(c: Buffer): boolean;
  drain: Parser;
  end(): Promise<{ entries: number; bytes: number }>;
} {
  let entries = 0;
  let total = 0;
  const parser = new Parser({
    strict: true,
    onReadEntry: (e) => {
      entries++;
      e.on('data', (c: Buffer) => void (total += c.length));
    },
  });
  let failed: Error | undefined;
  parser.on('error', (err: Error) => (failed = err));
  return {
    write: (c) => parser.write(c),
    drain: parser,
    end: () =>
      new Promise((resolve, reject) => {
        parser.once('end', () => (failed ? reject(failed) : resolve({ entries, bytes: total })));
        parser.end();
      }),
  };
}

async function fromFile(file: string, which: 'hand' | 'tar'): Promise<number> {
  if (which === 'hand') {
    const r = handWritten();
    await pipeline(
      createReadStream(file, { highWaterMark: 1 << 20 }),
      createGunzip({ chunkSize: 256 * 1024 }),
      new Writable({
        highWaterMark: 1 << 20,
        write: (c: Buffer, _e, cb) => (r.write(c), cb()),
      }),
    );
    return r.end().entries;
  }
  const p = tarPackage();
  await pipeline(
    createReadStream(file, { highWaterMark: 1 << 20 }),
    createGunzip({ chunkSize: 256 * 1024 }),
    new Writable({
      highWaterMark: 1 << 20,
      write: (c: Buffer, _e, cb) => (p.write(c) ? cb() : p.drain.once('drain', () => cb())),
      final: (cb) => void p.end().then(() => cb(), cb),
    }),
  );
  return 0;
}

function fromMemory(tar: Buffer, which: 'hand' | 'tar'): unknown {
  const CHUNK = 256 * 1024;
  if (which === 'hand') {
    const r = handWritten();
    for (let at = 0; at < tar.length; at += CHUNK) r.write(tar.subarray(at, at + CHUNK));
    return r.end();
  }
  const p = tarPackage();
  for (let at = 0; at < tar.length; at += CHUNK) p.write(tar.subarray(at, at + CHUNK));
  return p.end();
}

/** A fresh process reads `file` once: module loading included, as for `fathom results`. */
async function coldRead(file: string, which: 'hand' | 'tar'): Promise<number> {
  const child = forkChild<TarReadChildMessage>(CHILD, [which, file]);
  const done = await child.next<Extract<TarReadChildMessage, { type: 'done' }>>('done');
  await child.exited();
  return done.ms;
}

function ratio(a: number, b: number): string {
  return `${(a / b).toFixed(2)}×`;
}

export const parsersBench: Bench = {
  name: 'parsers',
  description: 'the tar package vs the hand-written tar reader; yaml vs the fast item-YAML reader',
  async run(log): Promise<BenchResult> {
    const dir = await mkdtemp(join(tmpdir(), 'fathom-bench-parsers-'));
    try {
      const inputs: Input[] = REAL_TARBALLS.filter((f) => existsSync(f)).map((file) => ({
        label: `Sonobuoy ${basename(file)}`,
        file,
      }));
      const notes: string[] = [];
      if (inputs.length === 0) notes.push(`Sonobuoy's tarballs are not at ${SONOBUOY}: skipped.`);
      log('generating a 100,000-test run and a 1,000-node run');
      const large = await largeSonobuoyTarball(join(dir, 'large'), 100_000);
      inputs.push({ label: 'generated: 100,000 tests, 1 plugin', file: large.file });
      const many = await manyNodesTarball(join(dir, 'many'), 1000);
      inputs.push({ label: 'generated: 1,000 nodes × 4 files', file: many });

      const tarRows: Cell[][] = [];
      const tarData: Record<string, unknown>[] = [];
      for (const input of inputs) {
        log(`tar: ${input.label}`);
        const tar = gunzipSync(readFileSync(input.file));
        const [handFile, tarFile] = await sideBySide(
          () => fromFile(input.file, 'hand'),
          () => fromFile(input.file, 'tar'),
        );
        const [handMem, tarMem] = await sideBySide(
          () => fromMemory(tar, 'hand'),
          () => fromMemory(tar, 'tar'),
        );
        const handCold: number[] = [];
        const tarCold: number[] = [];
        for (let i = 0; i < COLD_REPS; i++) {
          handCold.push(await coldRead(input.file, 'hand'));
          tarCold.push(await coldRead(input.file, 'tar'));
        }
        const m = {
          handCold: stats(handCold).median,
          tarCold: stats(tarCold).median,
          handFile: stats(handFile).median,
          tarFile: stats(tarFile).median,
          handMem: stats(handMem).median,
          tarMem: stats(tarMem).median,
        };
        tarData.push({ input: input.label, tarBytes: tar.length, ...m });
        tarRows.push([
          `${input.label} (${bytes(tar.length)} of tar)`,
          ms(m.handCold),
          ms(m.tarCold),
          ratio(m.tarCold, m.handCold),
          ms(m.handFile),
          ms(m.tarFile),
          ratio(m.tarFile, m.handFile),
          ms(m.handMem),
          ms(m.tarMem),
          ratio(m.tarMem, m.handMem),
        ]);
      }

      const yamlRows: Cell[][] = [];
      const yamlData: Record<string, unknown>[] = [];
      for (const input of inputs) {
        const yamlFiles: string[] = [];
        const archive = await readArchive(input.file, (rel) => {
          const want = rel.endsWith('/sonobuoy_results.yaml');
          if (want) yamlFiles.push(rel);
          return want;
        });
        try {
          for (const rel of yamlFiles) {
            const text = archive.readText(rel);
            if (text.length < 1024) continue;
            const fast = parseItemYamlFast(text);
            const generic = parseItemYamlGeneric(text);
            if (!fast) {
              notes.push(`${input.label} ${rel}: the fast reader steps aside; not compared.`);
              continue;
            }
            if (!isDeepStrictEqual(fast, generic)) {
              throw new Error(`${input.label} ${rel}: the two readers disagree`);
            }
            log(`yaml: ${input.label} ${rel}`);
            const [f, g] = await sideBySide(
              () => parseItemYamlFast(text),
              () => parseItemYamlGeneric(text),
              YAML_SAMPLES,
            );
            const m = { fast: stats(f).median, generic: stats(g).median };
            yamlData.push({ input: input.label, file: rel, chars: text.length, ...m });
            yamlRows.push([
              `${input.label}: ${rel} (${bytes(Buffer.byteLength(text))})`,
              ms(m.fast),
              ms(m.generic),
              ratio(m.generic, m.fast),
            ]);
          }
        } finally {
          archive.cleanup();
        }
      }

      return {
        data: { tar: tarData, yaml: yamlData },
        tables: [
          {
            title: 'tar readers: hand-written push parser vs the `tar` package (median per read)',
            columns: [
              'tarball',
              'hand-written, cold',
              'tar package, cold',
              'ratio',
              'hand-written, file+gunzip',
              'tar package, file+gunzip',
              'ratio',
              'hand-written, parse only',
              'tar package, parse only',
              'ratio',
            ],
            rows: tarRows,
            notes: [
              "Every entry is read to its last byte. Ratio: the tar package's time over the hand-written one's.",
              `Cold: a fresh process loads the reader and reads the file once (median of ${COLD_REPS}); the other columns are warm, in the bench's process.`,
              ...notes,
            ],
          },
          {
            title: 'item YAML: the fast reader vs the yaml package + toItem (median per parse)',
            columns: ['file', 'fast reader', 'yaml package', 'ratio'],
            rows: yamlRows,
            notes: ['The same Item from both, checked before timing.'],
          },
        ],
      };
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  },
};
