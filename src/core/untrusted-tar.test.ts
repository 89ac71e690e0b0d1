import { lstat, mkdtemp, readFile, readlink, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { Header } from 'tar';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FathomError } from './errors.js';
import {
  extractUntrustedTar,
  safeEntryPath,
  walkUntrustedTar,
  type UntrustedTarOptions,
} from './untrusted-tar.js';

interface Spec {
  path: string;
  type?: 'File' | 'Directory' | 'SymbolicLink' | 'Link';
  body?: string;
  linkpath?: string;
}

function tar(specs: Spec[]): Buffer {
  const blocks: Buffer[] = [];
  for (const s of specs) {
    const body = Buffer.from(s.body ?? '');
    const h = new Header({
      path: s.path,
      type: s.type ?? 'File',
      size: body.length,
      mode: 0o644,
      ...(s.linkpath ? { linkpath: s.linkpath } : {}),
    });
    h.encode();
    blocks.push(h.block!, body, Buffer.alloc((512 - (body.length % 512)) % 512));
  }
  blocks.push(Buffer.alloc(1024));
  return Buffer.concat(blocks);
}

const base: UntrustedTarOptions = {
  source: 'test.tar',
  gzip: false,
  maxBytes: 1 << 20,
  maxEntries: 100,
};

async function failure(p: Promise<unknown>): Promise<FathomError> {
  const err: unknown = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(FathomError);
  return err as FathomError;
}

describe('safeEntryPath', () => {
  it.each([
    ['./meta/info.json', 'meta/info.json'],
    ['a//b/./c/', 'a/b/c'],
    ['./', undefined],
    ['a/.../b', 'a/.../b'],
  ])('%j → %j', (raw, want) => expect(safeEntryPath(raw)).toBe(want));

  it.each(['../x', 'a/../../x', 'a/..', '/etc/passwd', 'C:/x', 'a\\..\\b', 'a\0b'])(
    'rejects %j',
    (raw) => expect(() => safeEntryPath(raw)).toThrow(),
  );
});

describe('walkUntrustedTar', () => {
  it('hands over checked entries in order, each body readable before the next', async () => {
    const seen: string[] = [];
    await walkUntrustedTar(
      Readable.from([
        gzipSync(
          tar([
            { path: './', type: 'Directory' },
            { path: 'a/', type: 'Directory' },
            { path: 'a/f', body: 'hello' },
            { path: 'b', body: '' },
          ]),
        ),
      ]),
      { ...base, gzip: true },
      async (e) => {
        let text = '';
        for await (const c of e.body) text += c.toString();
        seen.push(`${e.type} ${JSON.stringify(e.rel)} ${e.size} ${text}`);
      },
    );
    expect(seen).toEqual([
      'Directory "" 0 ',
      'Directory "a" 0 ',
      'File "a/f" 5 hello',
      'File "b" 0 ',
    ]);
  });

  it('passes a visitor error through as it is', async () => {
    const mine = new Error('visitor says no');
    const err = await walkUntrustedTar(
      Readable.from([tar([{ path: 'f', body: 'x' }])]),
      base,
      () => {
        throw mine;
      },
    ).catch((e: unknown) => e);
    expect(err).toBe(mine);
  });

  it('is empty, not corrupt, for no bytes or end blocks only when allowEmpty', async () => {
    for (const bytes of [
      Buffer.alloc(0),
      gzipSync(Buffer.alloc(0)),
      gzipSync(Buffer.alloc(1024)),
    ]) {
      const visits: string[] = [];
      const opts = { ...base, gzip: true, allowEmpty: true };
      await walkUntrustedTar(Readable.from([bytes]), opts, (e) => void visits.push(e.rel));
      expect(visits).toEqual([]);
      const err = await failure(
        walkUntrustedTar(Readable.from([bytes]), { ...opts, allowEmpty: false }, () => undefined),
      );
      expect(err.code).toBe('FATHOM_RESULT_BAD_ARCHIVE');
      expect(err.message).toMatch(/^test\.tar: corrupt archive/);
    }
  });

  it('bounds the input bytes before decompressing', async () => {
    const bytes = gzipSync(tar([{ path: 'f', body: 'x'.repeat(10_000) }]));
    const err = await failure(
      walkUntrustedTar(
        Readable.from([bytes]),
        { ...base, gzip: true, maxInputBytes: 20 },
        () => undefined,
      ),
    );
    expect(err.code).toBe('FATHOM_RESULT_TOO_LARGE');
    expect(err.message).toMatch(/larger than 20 bytes/);
  });
});

describe('extractUntrustedTar with symbolic links', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'fathom-untrusted-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('keeps a link that points down when asked, and writes files', async () => {
    const input = tar([
      { path: 'logs/', type: 'Directory' },
      { path: 'logs/a.log', body: 'A' },
      { path: 'latest', type: 'SymbolicLink', linkpath: 'logs/a.log' },
    ]);
    const got = await extractUntrustedTar(Readable.from([input]), dir, {
      ...base,
      symlinks: 'downward',
    });
    expect(got).toEqual({ files: 1, bytes: 1 });
    expect(await readlink(join(dir, 'latest'))).toBe('logs/a.log');
    expect(await readFile(join(dir, 'latest'), 'utf8')).toBe('A');
    expect((await lstat(join(dir, 'logs'))).isDirectory()).toBe(true);
  });

  it.each([
    ['an absolute target', [{ path: 'l', type: 'SymbolicLink', linkpath: '/etc/passwd' }], /"l"/],
    [
      'a target with ..',
      [{ path: 'l', type: 'SymbolicLink', linkpath: 'a/../..' }],
      /may point outside/,
    ],
    [
      'a path through a link',
      [
        { path: 'l', type: 'SymbolicLink', linkpath: 'd' },
        { path: 'l/x', body: 'x' },
      ],
      /goes through symbolic link l/,
    ],
    [
      'a hard link',
      [
        { path: 'f', body: 'x' },
        { path: 'h', type: 'Link', linkpath: 'f' },
      ],
      /Link: links are not allowed/,
    ],
  ] as [string, Spec[], RegExp][])('refuses %s', async (_what, specs, pattern) => {
    const err = await failure(
      extractUntrustedTar(Readable.from([tar(specs)]), dir, { ...base, symlinks: 'downward' }),
    );
    expect(err.code).toBe('FATHOM_RESULT_BAD_ARCHIVE');
    expect(err.message).toMatch(pattern);
  });

  it('refuses every link by default', async () => {
    const input = tar([{ path: 'l', type: 'SymbolicLink', linkpath: 'down' }]);
    const err = await failure(extractUntrustedTar(Readable.from([input]), dir, base));
    expect(err.message).toMatch(/SymbolicLink: links are not allowed \(entry "l"\)/);
  });

  it('says bad archive when an entry puts a file where a directory is', async () => {
    const input = tar([
      { path: 'a', body: 'x' },
      { path: 'a/b', body: 'y' },
    ]);
    const err = await failure(extractUntrustedTar(Readable.from([input]), dir, base));
    expect(err.code).toBe('FATHOM_RESULT_BAD_ARCHIVE');
    expect(err.message).toMatch(/"a\/b"/);
  });
});
