import { describe, expect, it } from 'vitest';
import { TarError, TarReader, type TarEntry } from './tarstream.js';

/** One ustar header block for a file or directory (`type` '0' or '5'), checksum filled in. */
function header(name: string, size: number, type = '0'): Buffer {
  const h = Buffer.alloc(512);
  h.write(name, 0, 100, 'utf8');
  h.write('0000644\0', 100);
  h.write(size.toString(8).padStart(11, '0') + '\0', 124);
  h.write('        ', 148);
  h.write(type, 156);
  h.write('ustar\0', 257);
  h.write('00', 263);
  let sum = 0;
  for (const b of h) sum += b;
  h.write(sum.toString(8).padStart(6, '0') + '\0 ', 148);
  return h;
}

function archive(files: [string, string][]): Buffer {
  const parts: Buffer[] = [];
  for (const [name, body] of files) {
    const data = Buffer.from(body);
    parts.push(header(name, data.length), data, Buffer.alloc((512 - (data.length % 512)) % 512));
  }
  parts.push(Buffer.alloc(1024), Buffer.from('garbage after the end is ignored'));
  return Buffer.concat(parts);
}

/** Feeds `bytes` in chunks of the given sizes (cycling) and records what the reader reports. */
function read(bytes: Buffer, sizes: number[]): { entries: TarEntry[]; bodies: string[] } {
  const entries: TarEntry[] = [];
  const bodies: string[] = [];
  let body: Buffer[] = [];
  const reader = new TarReader({
    entry(e) {
      entries.push(e);
      body = [];
      return true;
    },
    data(chunk) {
      body.push(Buffer.from(chunk));
    },
    end() {
      bodies.push(Buffer.concat(body).toString('utf8'));
    },
  });
  let at = 0;
  for (let i = 0; at < bytes.length; i++) {
    const n = sizes[i % sizes.length]!;
    if (!reader.ended) reader.write(bytes.subarray(at, at + n));
    at += n;
  }
  reader.end();
  return { entries, bodies };
}

describe('TarReader', () => {
  const files: [string, string][] = [
    ['empty', ''],
    ['one', 'x'],
    ['block', 'b'.repeat(512)],
    ['more', 'ü'.repeat(700)],
  ];
  const bytes = archive(files);
  const whole = read(bytes, [bytes.length]);

  it('reports entries and their bytes', () => {
    expect(whole.entries.map((e) => [e.path, e.type, e.size])).toEqual([
      ['empty', 'File', 0],
      ['one', 'File', 1],
      ['block', 'File', 512],
      ['more', 'File', 1400],
    ]);
    expect(whole.bodies).toEqual(files.map((f) => f[1]));
  });

  it.each([[[1]], [[7]], [[511]], [[512]], [[513]], [[3, 1000, 1, 600]]])(
    'gives the same in chunks of %j',
    (sizes) => expect(read(bytes, sizes)).toEqual(whole),
  );

  it('skips the bytes of entries it was told it does not want', () => {
    const seen: string[] = [];
    const reader = new TarReader({
      entry: (e) => (seen.push(e.path), e.path === 'one'),
      data: (c) => seen.push(c.toString()),
      end: () => seen.push('end'),
    });
    reader.write(bytes);
    reader.end();
    expect(seen).toEqual(['empty', 'one', 'x', 'end', 'block', 'more']);
  });

  it.each([
    ['truncated', archive([['f', 'z'.repeat(2000)]]).subarray(0, 1024), /truncated input/],
    ['empty', Buffer.alloc(0), /unrecognized archive format/],
    ['only zero blocks', Buffer.alloc(2048), /unrecognized archive format/],
    [
      'a bad checksum',
      Buffer.concat([header('a', 0).fill(1, 0, 1), Buffer.alloc(1024)]),
      /checksum/,
    ],
    ['no path', Buffer.concat([header('', 0), Buffer.alloc(1024)]), /path is required/],
    [
      'a link without target',
      Buffer.concat([header('l', 0, '2'), Buffer.alloc(1024)]),
      /linkpath required/,
    ],
  ])('throws a corrupt TarError for %s', (_what, input, message) => {
    const reader = new TarReader({
      entry: () => false,
      data: () => undefined,
      end: () => undefined,
    });
    const err = (() => {
      try {
        reader.write(input);
        reader.end();
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(err).toBeInstanceOf(TarError);
    expect((err as TarError).kind).toBe('corrupt');
    expect((err as Error).message).toMatch(message);
  });
});
