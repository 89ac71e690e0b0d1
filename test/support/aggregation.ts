/**
 * Test support for the aggregation server: a real run CA, a server on a free port over a temp
 * directory, an HTTPS client that presents client certificates, and a tar writer that can make
 * the hostile archives no well-behaved tool would.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { Header, type HeaderData } from 'tar';
import { ManualClock } from '../../src/core/clock.js';
import { createRunCa, type KeyPair, type RunCa } from '../../src/core/pki.js';
import {
  createAggregator,
  type Aggregator,
  type AggregatorOptions,
} from '../../src/aggregation/aggregator.js';
import { startAggregationServer, type AggregationServer } from '../../src/aggregation/server.js';
import type { ExpectedResult } from '../../src/plugin/types.js';

export interface TarItem extends HeaderData {
  data?: Buffer | string;
}

/** An uncompressed tar of `items` (type File unless told); `end: false` omits the end blocks. */
export function tarball(items: TarItem[], { end = true } = {}): Buffer {
  const blocks: Buffer[] = [];
  for (const { data, ...header } of items) {
    const body = data === undefined ? Buffer.alloc(0) : Buffer.from(data);
    const block = Buffer.alloc(512);
    new Header({
      mode: header.type === 'Directory' ? 0o755 : 0o644,
      mtime: new Date(0),
      size: body.length,
      type: 'File',
      ...header,
    }).encode(block, 0);
    blocks.push(block, body, Buffer.alloc((512 - (body.length % 512)) % 512));
  }
  if (end) blocks.push(Buffer.alloc(1024));
  return Buffer.concat(blocks);
}

export interface Reply {
  status: number;
  text: string;
  json(): { code?: string; message?: string };
}

export interface SendOptions {
  method?: string;
  creds?: KeyPair;
  /** The CA the client trusts; the run CA by default. */
  ca: string;
  headers?: Record<string, string | number>;
  body?: Buffer | string | Readable;
}

/** One HTTPS request on a fresh connection; rejects only if no answer came at all. */
export function send(port: number, path: string, options: SendOptions): Promise<Reply> {
  return new Promise((resolve, reject) => {
    let answered = false;
    const req = httpsRequest(
      {
        host: '127.0.0.1',
        port,
        path,
        method: options.method ?? 'PUT',
        ca: options.ca,
        ...(options.creds ? { cert: options.creds.certPem, key: options.creds.keyPem } : {}),
        headers: options.headers ?? {},
        agent: false,
      },
      (res) => {
        answered = true;
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          resolve({
            status: res.statusCode ?? 0,
            text,
            json: () => JSON.parse(text) as { code?: string; message?: string },
          });
        });
        res.on('error', reject);
      },
    );
    // Once the server has answered, a refused body may fail to finish sending: that is fine.
    req.on('error', (err) => {
      if (!answered) reject(err);
    });
    const body = options.body;
    if (body instanceof Readable) body.pipe(req);
    else req.end(body);
  });
}

/** A pause in `lazyBytes`: once `at` bytes are out, nothing more until `until` resolves. */
export interface Hold {
  at: number;
  until: () => Promise<void>;
}

/** Bytes made on demand from a counter, so neither side could hold them all without it showing. */
export function lazyBytes(total: number, hold?: Hold): { stream: Readable; sha256: () => string } {
  const hash = createHash('sha256');
  const chunk = 64 * 1024;
  let made = 0;
  let held = false;
  const stream = new Readable({
    read() {
      if (made >= total) return void this.push(null);
      if (hold && !held && made >= hold.at) {
        held = true;
        void hold.until().then(
          () => this._read(chunk),
          (err: Error) => this.destroy(err),
        );
        return;
      }
      const n = Math.min(chunk, total - made);
      const buf = Buffer.alloc(n);
      for (let i = 0; i < n; i += 4) buf.writeUInt32LE((made + i) >>> 0, i);
      made += n;
      hash.update(buf);
      this.push(buf);
    },
  });
  return { stream, sha256: () => hash.digest('hex') };
}

/**
 * Resolves with the size of an upload being written into a scratch directory of `dir` once it
 * reaches `min` bytes. Polls on the event loop's check phase: I/O keeps flowing, no timer is used.
 */
export async function waitForPartialFile(dir: string, min: number): Promise<number> {
  for (let i = 0; i < 10_000_000; i++) {
    for (const name of await readdir(dir)) {
      if (!name.startsWith('.incoming-')) continue;
      const payload = join(dir, name, 'payload');
      for (const file of await readdir(payload).catch(() => [] as string[])) {
        const size = (await stat(join(payload, file)).catch(() => ({ size: 0 }))).size;
        if (size >= min) return size;
      }
    }
    await new Promise<void>((r) => setImmediate(r));
  }
  throw new Error('the server never wrote the upload to disk while receiving it');
}

/** Certificates shared by a test file: make once, they cost a few milliseconds each. */
export interface Certs {
  ca: RunCa;
  server: KeyPair;
  e2e: KeyPair;
  logs: KeyPair;
  stranger: KeyPair;
  /** Names plugin e2e but comes from another CA. */
  foreign: KeyPair;
}

export async function makeCerts(): Promise<Certs> {
  const ca = await createRunCa({ now: Date.now() });
  return {
    ca,
    server: await ca.serverCert(['127.0.0.1']),
    e2e: await ca.clientCert('e2e'),
    logs: await ca.clientCert('systemd-logs'),
    stranger: await ca.clientCert('stranger'),
    foreign: await (await createRunCa({ now: Date.now() })).clientCert('e2e'),
  };
}

/** A Job plugin (e2e) and a DaemonSet plugin (systemd-logs) on two nodes. */
export const EXPECTED: readonly ExpectedResult[] = [
  { plugin: 'e2e', node: 'global' },
  { plugin: 'systemd-logs', node: 'node-1' },
  { plugin: 'systemd-logs', node: 'node-2' },
];

/** A live server over a fresh temp directory. */
export class ServerFixture {
  readonly clock = new ManualClock(Date.UTC(2026, 2, 1, 12, 0, 0));
  aggregator!: Aggregator;
  server!: AggregationServer;

  private constructor(
    readonly certs: Certs,
    readonly dir: string,
  ) {}

  static async start(
    certs: Certs,
    maxResultBytes?: number,
    options: Partial<AggregatorOptions> = {},
  ): Promise<ServerFixture> {
    const fixture = new ServerFixture(certs, await mkdtemp(join(tmpdir(), 'fathom-agg-')));
    await fixture.restart(maxResultBytes, options);
    return fixture;
  }

  /** A new aggregator and server over the same directory. */
  async restart(maxResultBytes?: number, options: Partial<AggregatorOptions> = {}): Promise<void> {
    await this.server?.close();
    this.aggregator = createAggregator({
      outputDir: this.dir,
      clock: this.clock,
      expected: EXPECTED,
      ...(maxResultBytes === undefined ? {} : { maxResultBytes }),
      ...options,
    });
    this.server = await startAggregationServer({
      aggregator: this.aggregator,
      tls: {
        caPem: this.certs.ca.caPem,
        certPem: this.certs.server.certPem,
        keyPem: this.certs.server.keyPem,
      },
    });
  }

  send(path: string, options: Omit<SendOptions, 'ca'> & { ca?: string }): Promise<Reply> {
    return send(this.server.port, path, { ca: this.certs.ca.caPem, ...options });
  }

  put(
    path: string,
    creds: KeyPair,
    body: Buffer | string | Readable,
    headers: Record<string, string | number> = {},
  ): Promise<Reply> {
    return this.send(path, { creds, body, headers });
  }

  /** Every path below the output directory, sorted, so tests see what was left behind. */
  async tree(): Promise<string[]> {
    return (await readdir(this.dir, { recursive: true })).sort();
  }

  async stop(): Promise<void> {
    await this.server.close();
    await rm(this.dir, { recursive: true, force: true });
  }
}
