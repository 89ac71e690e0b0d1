/**
 * `fathom results` on tarballs too large to hold: nothing is extracted that can never be read,
 * files are printed in bounded pieces, and temp directories never outlive the command.
 * (Signals are in test/e2e/results-signals.test.ts: they need a process of their own.)
 */
import { mkdir, mkdtemp, readdir, rm, truncate, writeFile } from 'node:fs/promises';
import { readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { liveTempDirs } from '../../core/tempdir.js';
import { CHUNK_BYTES, readArchive } from '../../results/archive.js';
import { readableText } from '../../results/read.js';
import { rawTar, type RawEntry } from '../../results/test-helpers.js';
import { DEFAULT_MAX_YAML_BYTES } from '../../results/yamlfast.js';
import type { Io } from '../context.js';
import { main } from '../main.js';

let work: string;
let savedTmp: string | undefined;
beforeEach(async () => {
  work = await mkdtemp(join(tmpdir(), 'fathom-results-bounds-'));
  savedTmp = process.env.TMPDIR;
});
afterEach(async () => {
  if (savedTmp === undefined) delete process.env.TMPDIR;
  else process.env.TMPDIR = savedTmp;
  await rm(work, { recursive: true, force: true });
});

interface Run {
  code: number;
  out: string[];
  err: string;
  drains: number;
}

async function run(args: string[], watch?: (out: string) => void): Promise<Run> {
  const r: Run = { code: -1, out: [], err: '', drains: 0 };
  const io: Io = {
    out: (t) => {
      r.out.push(t);
      watch?.(t);
    },
    err: (t) => void (r.err += t),
    drain: () => {
      r.drains++;
      return Promise.resolve();
    },
    isTTY: false,
    env: {},
    cwd: work,
    stdin: (async function* () {})(),
  };
  r.code = await main(['node', 'fathom', ...args], io);
  return r;
}

const info = { name: 'meta/info.json', body: '{"plugins":["p"]}' };

describe('a file larger than fathom reads', () => {
  it('fails on its header in one line, writing nothing to the temp dir', async () => {
    // A plain tar whose results file is one byte over the cap: the body is a hole of the
    // sparse file, so the test costs a read of zeros and no disk.
    const file = join(work, 'huge.tar');
    const size = DEFAULT_MAX_YAML_BYTES + 1;
    const head = rawTar([info, { name: 'plugins/p/sonobuoy_results.yaml', size }], { end: false });
    await writeFile(file, head);
    await truncate(file, head.length + Math.ceil(size / 512) * 512 + 1024);
    // A temp "directory" that is a file: making any directory under it fails.
    const notADir = join(work, 'not-a-dir');
    await writeFile(notADir, '');
    process.env.TMPDIR = notADir;

    const r = await run(['results', file]);
    expect(r.err).toBe(
      `error: plugins/p/sonobuoy_results.yaml: ${size} bytes, more than the ${DEFAULT_MAX_YAML_BYTES} fathom reads\n`,
    );
    expect(r.code).toBe(2);
    expect(liveTempDirs()).toBe(0);
  });

  it('is stat-ed, not stored, when the reader says so', async () => {
    const file = join(work, 'capped.tar.gz');
    await writeFile(file, gzipSync(rawTar([{ name: 'big', body: 'x'.repeat(5000) }])));
    process.env.TMPDIR = work;
    const a = await readArchive(file, () => 100, { maxKeptFile: 0, maxKeptBytes: 0 });
    expect(a.stat('big')).toEqual({ isFile: true, isDirectory: false, size: 5000 });
    expect(() => a.readText('big')).toThrow(/was not kept/);
    expect(await readdir(work)).toEqual(['capped.tar.gz']);
  });
});

describe('detailed mode streams the files it prints', () => {
  // 3 MiB of a 3-byte character, so that pieces split characters.
  const big = '€'.repeat(1024 * 1024);
  const yaml = [
    'name: p',
    'status: passed',
    'items:',
    '- name: node1',
    '  status: passed',
    '  meta:',
    '    file: results/node1/big.log',
    '',
  ].join('\n');

  async function tarball(): Promise<string> {
    const entries: RawEntry[] = [
      info,
      { name: 'plugins/p/results/unused.bin', body: 'u'.repeat(2 * 1024 * 1024) },
      { name: 'plugins/p/results/node1/big.log', body: big },
      { name: 'plugins/p/sonobuoy_results.yaml', body: yaml },
    ];
    const file = join(work, 'detailed.tar.gz');
    await writeFile(file, gzipSync(rawTar(entries)));
    return file;
  }

  it('in pieces of at most CHUNK_BYTES, waiting for room, from a temp dir holding only that file', async () => {
    const file = await tarball();
    const tmp = join(work, 'tmp');
    await mkdir(tmp);
    process.env.TMPDIR = tmp;
    // What the temp dir holds while the file is printed: every file, with its size.
    let seen: number[] | undefined;
    const r = await run(['results', '-m', 'detailed', file], () => {
      seen ??= readdirSync(tmp, { recursive: true, withFileTypes: true })
        .filter((e) => e.isFile())
        .map((e) => statSync(join(e.parentPath, e.name)).size);
    });
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out.join('')).toBe(`p|node1 ${big}`);
    const pieces = r.out.slice(1);
    expect(pieces.length).toBeGreaterThan(3 * 16 - 1);
    // A piece may carry the end of a character begun in the piece before it.
    for (const p of pieces) expect(Buffer.byteLength(p)).toBeLessThanOrEqual(CHUNK_BYTES + 3);
    expect(r.drains).toBe(pieces.length);
    // Only the file printed was written (not unused.bin), and it is gone afterwards.
    expect(seen).toEqual([Buffer.byteLength(big)]);
    expect(await readdir(tmp)).toEqual([]);
    expect(liveTempDirs()).toBe(0);
  });
});

describe('dump and readable modes stream the results file', () => {
  // Over 1 MiB, so kept on disk; dense with `\n` and `\t` written out, for readable mode.
  const items = Array.from(
    { length: 25_000 },
    (_, i) => `- name: "a\\nb\\tc\\n\\n${i}\\t"\n  status: passed\n`,
  );
  const yaml = `name: p\nstatus: passed\nitems:\n${items.join('')}`;

  it('in pieces, turning `\\n` into a newline even when a piece ends between the two', async () => {
    const backslashEndsAPiece = Array.from(
      { length: Math.floor(yaml.length / CHUNK_BYTES) },
      (_, k) => yaml[(k + 1) * CHUNK_BYTES - 1] === '\\',
    ).some(Boolean);
    expect(backslashEndsAPiece, 'the case this test is for').toBe(true);
    const file = join(work, 'dump.tar.gz');
    await writeFile(
      file,
      gzipSync(rawTar([info, { name: 'plugins/p/sonobuoy_results.yaml', body: yaml }])),
    );
    process.env.TMPDIR = work;
    for (const [mode, expected] of [
      ['dump', yaml],
      ['readable', readableText(yaml)],
    ] as const) {
      const r = await run(['results', '-m', mode, file]);
      expect(r.code).toBe(0);
      expect(r.out.join('')).toBe(expected);
      expect(r.out.length).toBeGreaterThan(16);
      for (const p of r.out) expect(p.length).toBeLessThanOrEqual(CHUNK_BYTES + 1);
    }
    expect(liveTempDirs()).toBe(0);
  });
});
