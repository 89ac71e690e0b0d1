import { createHash } from 'node:crypto';
import { link, mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { Clock } from '../../core/clock.js';
import { FathomError } from '../../core/errors.js';
import type { LeaseRecord, LeaseStore } from '../../core/lease.js';
import { Type } from '../../core/schema.js';
import { validatedJson } from '../../core/validated.js';

const count = Type.Integer({ minimum: 0 });
const leaseSchema = Type.Object({
  // Empty once its leader released it.
  holder: Type.String(),
  address: Type.String(),
  durationMs: count,
  acquiredAt: count,
  renewedAt: count,
  transitions: count,
});

/** A lock left by a process that died mid-update is taken over after this long. */
const STALE_LOCK_MS = 10_000;
const dnsLabel = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

/**
 * Leases on this machine: one JSON file per lease under `<home>/leases`, created with a hard
 * link (fails if it exists) and replaced under a lock directory with a version check, so two
 * processes never both win.
 */
export class LocalLeaseStore implements LeaseStore {
  readonly #dir: string;

  constructor(
    home: string,
    private readonly clock: Clock,
    options: { readonly dir?: string } = {},
  ) {
    this.#dir = options.dir ?? join(home, 'leases');
  }

  /** The store and lease name of one lease file (`--lease-file DIR/NAME.json`). */
  static forFile(file: string, clock: Clock): { store: LocalLeaseStore; name: string } {
    const name = basename(file).replace(/\.json$/, '');
    if (!file.endsWith('.json') || !dnsLabel.test(name)) {
      throw new FathomError(
        'FATHOM_BAD_FLAG_VALUE',
        `--lease-file: expected a file named <dns-label>.json, got "${file}"`,
        { details: { flag: '--lease-file', value: file } },
      );
    }
    return { store: new LocalLeaseStore('', clock, { dir: dirname(file) }), name };
  }

  async get(name: string): Promise<{ record: LeaseRecord; version: string } | undefined> {
    const file = this.#file(name);
    const text = await readFile(file, 'utf8').catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return undefined;
      throw err;
    });
    if (text === undefined) return undefined;
    return { record: validatedJson(leaseSchema, text, { file }), version: versionOf(text) };
  }

  async create(name: string, record: LeaseRecord): Promise<boolean> {
    const file = this.#file(name);
    await mkdir(this.#dir, { recursive: true });
    const tmp = `${file}.${process.pid}.${this.clock.now()}.new`;
    await writeFile(tmp, JSON.stringify(record), { mode: 0o600 });
    try {
      await link(tmp, file); // atomic create-if-absent
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw err;
    } finally {
      await rm(tmp, { force: true });
    }
  }

  async update(name: string, record: LeaseRecord, version: string): Promise<boolean> {
    const file = this.#file(name);
    const lock = `${file}.lock`;
    if (!(await this.#lock(lock))) return false;
    try {
      const text = await readFile(file, 'utf8').catch(() => undefined);
      if (text === undefined || versionOf(text) !== version) return false;
      const tmp = `${file}.${process.pid}.new`;
      await writeFile(tmp, JSON.stringify(record), { mode: 0o600 });
      await rename(tmp, file);
      return true;
    } finally {
      await rm(lock, { recursive: true, force: true });
    }
  }

  /** Takes the lock directory; false when another writer holds it (it will decide). */
  async #lock(lock: string): Promise<boolean> {
    try {
      await mkdir(lock);
      return true;
    } catch {
      const age = await stat(lock).then(
        (s) => this.clock.now() - s.mtimeMs,
        () => 0,
      );
      if (age < STALE_LOCK_MS) return false;
      await rm(lock, { recursive: true, force: true });
      return this.#lock(lock);
    }
  }

  #file(name: string): string {
    if (!dnsLabel.test(name)) {
      throw new FathomError(
        'FATHOM_BAD_FLAG_VALUE',
        `lease name ${JSON.stringify(name)} is not a DNS label`,
      );
    }
    return join(this.#dir, `${name}.json`);
  }
}

function versionOf(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}
