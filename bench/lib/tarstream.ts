/**
 * A small push parser for tar streams (POSIX ustar and pax, GNU long names), for reading results
 * tarballs without extracting them. It only parses: it says what each entry is and hands over
 * its bytes; what is allowed is the caller's decision (see archive.ts). Corrupt input — a bad
 * checksum, a truncated entry, no entry at all — throws a `TarError`.
 */

/** The tar type flag of an entry, by name (as the tar package names them). */
const TYPE_NAMES: Record<string, string> = {
  '0': 'File',
  '1': 'Link',
  '2': 'SymbolicLink',
  '3': 'CharacterDevice',
  '4': 'BlockDevice',
  '5': 'Directory',
  '6': 'FIFO',
  '7': 'ContiguousFile',
  g: 'GlobalExtendedHeader',
  x: 'ExtendedHeader',
  A: 'SolarisACL',
  D: 'GNUDumpDir',
  I: 'Inode',
  K: 'NextFileHasLongLinkpath',
  L: 'NextFileHasLongPath',
  M: 'ContinuationFile',
  N: 'OldGnuLongPath',
  S: 'SparseFile',
  V: 'TapeVolumeHeader',
  X: 'OldExtendedHeader',
};

/** Types that describe the next entry rather than being one. */
const META_TYPES = new Set(['g', 'x', 'X', 'K', 'L', 'N']);
/** Types that are file-system entries (and so take pax and GNU overrides). */
const FS_TYPES = new Set(['0', '1', '2', '3', '4', '5', '6', '7', 'D']);
const LINK_TYPES = new Set(['1', '2']);

/** Meta entries (pax records, long names) larger than this are refused. */
const MAX_META_BYTES = 1024 * 1024;
const BLOCK = 512;

export type TarErrorKind = 'corrupt' | 'unsupported';

/** Why a tar stream cannot be read: `corrupt`, or an entry type nobody handles (`unsupported`). */
export class TarError extends Error {
  override readonly name = 'TarError';
  constructor(
    readonly kind: TarErrorKind,
    message: string,
    /** The entry's path, for `unsupported`. */
    readonly entry?: string,
  ) {
    super(message);
  }
}

/** One entry as the stream declares it. */
export interface TarEntry {
  /** The path as written (pax or GNU long name when there is one); not yet checked. */
  path: string;
  /** `File`, `Directory`, `SymbolicLink`, ... (see TYPE_NAMES), or `Unsupported`. */
  type: string;
  /** Bytes of content that follow. */
  size: number;
}

/** What the parser tells its user. `entry` returns whether it wants the entry's bytes. */
export interface TarVisitor {
  entry(entry: TarEntry): boolean;
  data(chunk: Buffer): void;
  end(): void;
}

interface Overrides {
  path?: string;
  linkpath?: string;
  size?: number;
}

/** Text of a NUL-terminated header field. */
function field(block: Buffer, off: number, size: number): string {
  const end = block.indexOf(0, off);
  return block.toString('utf8', off, end === -1 || end > off + size ? off + size : end);
}

/** A numeric header field: octal text, or base-256 when the high bit of its first byte is set. */
function numeric(block: Buffer, off: number, size: number): number | undefined {
  const first = block[off]!;
  if (first & 0x80) {
    if (first !== 0x80) throw new TarError('corrupt', 'invalid base-256 number in a header');
    let n = 0;
    for (let i = off + 1; i < off + size; i++) n = n * 256 + block[i]!;
    if (!Number.isSafeInteger(n)) throw new TarError('corrupt', 'number too large in a header');
    return n;
  }
  const n = parseInt(field(block, off, size).trim(), 8);
  return Number.isNaN(n) ? undefined : n;
}

function isZeroBlock(block: Buffer): boolean {
  for (let i = 0; i < BLOCK; i++) if (block[i] !== 0) return false;
  return true;
}

/** The pax records (`<len> key=value\n`) that matter here. */
function paxRecords(text: string, into: Overrides, global: boolean): Overrides {
  const out: Overrides = { ...into };
  for (const line of text.replace(/\n$/, '').split('\n')) {
    const space = line.indexOf(' ');
    if (space <= 0 || Number(line.slice(0, space)) !== Buffer.byteLength(line) + 1) continue;
    const eq = line.indexOf('=', space);
    if (eq === -1) continue;
    const key = line.slice(space + 1, eq);
    const value = line.slice(eq + 1).replace(/\0.*/, '');
    if (key === 'size') {
      const n = Number(value);
      if (n >= 0) out.size = n;
    } else if ((key === 'path' || key === 'linkpath') && !global) {
      out[key] = value;
    }
  }
  return out;
}

type State = 'header' | 'body' | 'meta' | 'eof';

/** Parses a tar stream pushed to it in chunks of any size. */
export class TarReader {
  private state: State = 'header';
  private readonly pending = Buffer.alloc(BLOCK);
  private pendingLength = 0;
  private sawZeroBlock = false;
  private sawEntry = false;
  private sawBlock = false;
  private dataLeft = 0;
  private blockLeft = 0;
  private wanted = false;
  private meta: Buffer[] = [];
  private metaType = '';
  private local: Overrides | undefined;
  private global: Overrides | undefined;

  constructor(private readonly visitor: TarVisitor) {}

  /** True once the end-of-archive marker was read; later bytes are ignored. */
  get ended(): boolean {
    return this.state === 'eof';
  }

  write(chunk: Buffer): void {
    let pos = 0;
    const n = chunk.length;
    while (pos < n && this.state !== 'eof') {
      if (this.state === 'header') {
        if (this.pendingLength === 0 && n - pos >= BLOCK) {
          this.header(chunk.subarray(pos, pos + BLOCK));
          pos += BLOCK;
          continue;
        }
        const take = Math.min(BLOCK - this.pendingLength, n - pos);
        chunk.copy(this.pending, this.pendingLength, pos, pos + take);
        this.pendingLength += take;
        pos += take;
        if (this.pendingLength === BLOCK) {
          this.pendingLength = 0;
          this.header(this.pending);
        }
        continue;
      }
      const take = Math.min(this.blockLeft, n - pos);
      const data = Math.min(take, this.dataLeft);
      if (data > 0) {
        const part = chunk.subarray(pos, pos + data);
        if (this.state === 'meta') this.meta.push(Buffer.from(part));
        else if (this.wanted) this.visitor.data(part);
      }
      this.dataLeft -= data;
      this.blockLeft -= take;
      pos += take;
      if (this.blockLeft === 0) this.finishEntry();
    }
  }

  /** The stream is over: throws if it stopped inside an entry or held no entry at all. */
  end(): void {
    if (this.state === 'body' || this.state === 'meta') {
      throw new TarError('corrupt', `truncated input (${this.blockLeft} bytes missing)`);
    }
    if (!this.sawBlock || !this.sawEntry) {
      throw new TarError('corrupt', 'unrecognized archive format');
    }
  }

  private header(block: Buffer): void {
    this.sawBlock = true;
    if (isZeroBlock(block)) {
      if (this.sawZeroBlock) this.state = 'eof';
      this.sawZeroBlock = true;
      return;
    }
    this.sawZeroBlock = false;
    let sum = 8 * 0x20;
    for (let i = 0; i < 148; i++) sum += block[i]!;
    for (let i = 156; i < BLOCK; i++) sum += block[i]!;
    if (numeric(block, 148, 8) !== sum) throw new TarError('corrupt', 'checksum failure');

    const flag = block[156] === 0 ? '0' : String.fromCharCode(block[156]!);
    const fs = FS_TYPES.has(flag);
    const local = fs ? this.local : undefined;
    const global = fs ? this.global : undefined;
    let path = local?.path ?? field(block, 0, 100);
    if (local?.path === undefined && block.toString('latin1', 257, 265) === 'ustar\u000000') {
      // ustar splits long names into a prefix; star's variant keeps times in its last bytes.
      const prefix = field(block, 345, block[475] !== 0 ? 155 : 130);
      if (prefix) path = `${prefix}/${path}`;
    }
    let type = TYPE_NAMES[flag] ?? 'Unsupported';
    if (type === 'File' && path.endsWith('/')) type = 'Directory';
    let size = local?.size ?? global?.size ?? numeric(block, 124, 12) ?? 0;
    if (type === 'Directory') size = 0;
    const linkpath = field(block, 157, 100);

    if (!path) throw new TarError('corrupt', 'path is required');
    if (LINK_TYPES.has(flag) && !linkpath) throw new TarError('corrupt', 'linkpath required');
    if (!LINK_TYPES.has(flag) && flag !== 'x' && flag !== 'g' && linkpath) {
      throw new TarError('corrupt', 'linkpath forbidden');
    }
    this.sawEntry = true;
    this.dataLeft = size;
    this.blockLeft = Math.ceil(size / BLOCK) * BLOCK;

    if (META_TYPES.has(flag)) {
      if (size > MAX_META_BYTES) throw new TarError('unsupported', type, path);
      this.metaType = flag;
      this.meta = [];
      this.state = 'meta';
      if (this.blockLeft === 0) this.finishEntry();
      return;
    }
    this.local = undefined;
    if (!fs) throw new TarError('unsupported', type, path);
    this.wanted = this.visitor.entry({ path, type, size });
    this.state = 'body';
    if (this.blockLeft === 0) this.finishEntry();
  }

  private finishEntry(): void {
    const wasMeta = this.state === 'meta';
    this.state = 'header';
    if (!wasMeta) {
      if (this.wanted) this.visitor.end();
      this.wanted = false;
      return;
    }
    const text = Buffer.concat(this.meta).toString('utf8');
    this.meta = [];
    switch (this.metaType) {
      case 'g':
        this.global = paxRecords(text, this.global ?? {}, true);
        break;
      case 'x':
      case 'X':
        this.local = paxRecords(text, this.local ?? {}, false);
        break;
      case 'K':
        this.local = { ...this.local, linkpath: text.replace(/\0.*/s, '') };
        break;
      default: // L, N: the next entry's path
        this.local = { ...this.local, path: text.replace(/\0.*/s, '') };
    }
  }
}
