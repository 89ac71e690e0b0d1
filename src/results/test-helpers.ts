/** Test-only tools for the results readers (excluded from the build). */

export interface RawEntry {
  name: string;
  /** ustar type flag: '0' file, '5' dir, '1' hard link, '2' symlink, '3' char dev, '6' fifo, 'L' GNU long name, 'x' pax. */
  type?: string;
  body?: string | Buffer;
  linkname?: string;
  /** ustar prefix field. */
  prefix?: string;
  /** Declared size, when it should differ from the body (a lie). */
  size?: number;
}

/** A hand-made ustar archive, so tests can hold entries no honest tar tool writes. */
export function rawTar(entries: RawEntry[], { end = true } = {}): Buffer {
  const blocks: Buffer[] = [];
  for (const e of entries) {
    const body = Buffer.from(e.body ?? '');
    const h = Buffer.alloc(512);
    h.write(e.name, 0, 100, 'utf8');
    h.write('0000644\0', 100);
    h.write('0000000\0', 108);
    h.write('0000000\0', 116);
    h.write((e.size ?? body.length).toString(8).padStart(11, '0') + '\0', 124);
    h.write('00000000000\0', 136);
    h.write('        ', 148);
    h.write(e.type ?? '0', 156);
    if (e.linkname) h.write(e.linkname, 157, 100);
    h.write('ustar\0', 257);
    h.write('00', 263);
    if (e.prefix) h.write(e.prefix, 345, 155);
    let sum = 0;
    for (const b of h) sum += b;
    h.write(sum.toString(8).padStart(6, '0') + '\0 ', 148);
    blocks.push(h, body, Buffer.alloc((512 - (body.length % 512)) % 512));
  }
  if (end) blocks.push(Buffer.alloc(1024));
  return Buffer.concat(blocks);
}
