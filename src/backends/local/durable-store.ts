/**
 * The durable store on the local backend: one SQLite file, `<home>/state.db`, shared by every
 * fathom process of this home (WAL, so readers never wait for a writer; a busy timeout, so
 * writers queue instead of failing). One table; a row's `version` is its AUTOINCREMENT rowid,
 * which SQLite never hands out twice, so a version read before a key was removed and created
 * again can never match the new row (no ABA, as with Kubernetes' resourceVersion).
 */
import { closeSync, existsSync, mkdirSync, openSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { FathomError } from '../../core/errors.js';
import {
  checkStoreName,
  encodeValue,
  type Collection,
  type DurableStore,
  type StoredItem,
} from '../../core/store.js';

/** How long a writer waits for another process's write lock before failing. */
export const BUSY_TIMEOUT_MS = 10_000;

export function stateDbOf(home: string): string {
  return join(home, 'state.db');
}

interface Row {
  readonly key: string;
  readonly value: string;
  readonly version: number | bigint;
}

/** SQLite's own failures (not a database, corrupt) as one line naming the file. */
function stateInvalid(file: string, err: unknown): FathomError {
  const message = (err as Error).message;
  return new FathomError(
    'FATHOM_STATE_INVALID',
    `${file}: not a usable fathom state database (${message})`,
    { cause: err, details: { file } },
  );
}

function sqliteFault(err: unknown): boolean {
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' && /^SQLITE_(NOTADB|CORRUPT|CANTOPEN)/.test(code);
}

/** Another process held the write lock for longer than the busy timeout. */
function lockedOut(err: unknown): boolean {
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' && /^SQLITE_(BUSY|LOCKED)/.test(code);
}

/** SQLite's failures as fathom's, naming the file; anything else as it is. */
function storeError(file: string, busyMs: number, err: unknown): Error {
  if (sqliteFault(err)) return stateInvalid(file, err);
  if (lockedOut(err)) {
    return new FathomError(
      'FATHOM_STATE_LOCKED',
      `${file}: locked by another process for more than ${busyMs} ms`,
      { cause: err, details: { file } },
    );
  }
  return err as Error;
}

/** Opens (creating when absent, mode 0600) the store of `home`. */
export function openLocalStore(
  home: string,
  { busyTimeoutMs = BUSY_TIMEOUT_MS }: { busyTimeoutMs?: number } = {},
): DurableStore {
  const file = stateDbOf(home);
  mkdirSync(home, { recursive: true });
  // Created here so that it is private from the start; SQLite gives its -wal and -shm files
  // the database file's mode.
  closeSync(openSync(file, 'a', 0o600));
  let db: Database.Database;
  try {
    db = new Database(file);
    db.pragma(`busy_timeout = ${busyTimeoutMs}`);
    db.pragma('journal_mode = WAL');
    db.exec(`CREATE TABLE IF NOT EXISTS items (
      version INTEGER PRIMARY KEY AUTOINCREMENT,
      collection TEXT NOT NULL,
      key TEXT NOT NULL,
      value TEXT NOT NULL,
      UNIQUE (collection, key))`);
  } catch (err) {
    throw storeError(file, busyTimeoutMs, err);
  }
  return new SqliteStore(db, file, busyTimeoutMs);
}

/**
 * Opens the store of `home` for reading only, for observers such as `fathom health --watch`
 * that must not create state: undefined while there is no `state.db`, or while it has no
 * table yet (a writer is creating it). A file that is not a fathom database is
 * FATHOM_STATE_INVALID, as for writers.
 */
export function openLocalStoreReadOnly(home: string): DurableStore | undefined {
  const file = stateDbOf(home);
  if (!existsSync(file)) return undefined;
  let db: Database.Database;
  try {
    db = new Database(file, { readonly: true, fileMustExist: true });
  } catch (err) {
    throw storeError(file, BUSY_TIMEOUT_MS, err);
  }
  try {
    db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    const table = db
      .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'items'")
      .get();
    if (!table) {
      db.close();
      return undefined;
    }
    return new SqliteStore(db, file, BUSY_TIMEOUT_MS);
  } catch (err) {
    db.close();
    throw storeError(file, BUSY_TIMEOUT_MS, err);
  }
}

class SqliteStore implements DurableStore {
  readonly #get;
  readonly #list;
  readonly #insert;
  readonly #delete;
  readonly #deleteAt;
  readonly #replace;

  constructor(
    private readonly db: Database.Database,
    private readonly file: string,
    private readonly busyMs: number,
  ) {
    this.#get = db.prepare<[string, string], Row>(
      'SELECT key, value, version FROM items WHERE collection = ? AND key = ?',
    );
    this.#list = db.prepare<[string], Row>(
      'SELECT key, value, version FROM items WHERE collection = ? ORDER BY key',
    );
    this.#insert = db.prepare<[string, string, string]>(
      'INSERT INTO items (collection, key, value) VALUES (?, ?, ?) ON CONFLICT DO NOTHING',
    );
    this.#delete = db.prepare<[string, string]>(
      'DELETE FROM items WHERE collection = ? AND key = ?',
    );
    this.#deleteAt = db.prepare<[string, string, number]>(
      'DELETE FROM items WHERE collection = ? AND key = ? AND version = ?',
    );
    // Compare and swap: the row at the version read goes, a new row (a new version) comes, or
    // nothing happens. IMMEDIATE takes the write lock first, so two processes queue on the
    // busy timeout instead of one failing to upgrade its read lock.
    this.#replace = db.transaction(
      (collection: string, key: string, value: string, version: number) => {
        if (this.#deleteAt.run(collection, key, version).changes === 0) return undefined;
        return this.#insert.run(collection, key, value).lastInsertRowid;
      },
    );
  }

  collection(name: string): Collection {
    checkStoreName('collection', name);
    const item = (row: Row): StoredItem => ({
      key: row.key,
      value: JSON.parse(row.value) as unknown,
      version: String(row.version),
    });
    const where = (key: string): string => `store ${name}/${key}`;
    return {
      get: (key) =>
        this.#run(() => {
          checkStoreName('key', key);
          const row = this.#get.get(name, key);
          return row && item(row);
        }),
      list: () => this.#run(() => this.#list.all(name).map(item)),
      create: (key, value) =>
        this.#run(() => {
          checkStoreName('key', key);
          const r = this.#insert.run(name, key, encodeValue(where(key), value));
          return r.changes ? String(r.lastInsertRowid) : undefined;
        }),
      update: (key, value, version) =>
        this.#run(() => {
          checkStoreName('key', key);
          const text = encodeValue(where(key), value);
          const at = versionNumber(version);
          if (at === undefined) return undefined;
          const v = this.#replace.immediate(name, key, text, at);
          return v === undefined ? undefined : String(v);
        }),
      remove: (key, version) =>
        this.#run(() => {
          checkStoreName('key', key);
          if (version === undefined) return this.#delete.run(name, key).changes > 0;
          const at = versionNumber(version);
          return at !== undefined && this.#deleteAt.run(name, key, at).changes > 0;
        }),
    };
  }

  close(): Promise<void> {
    if (this.db.open) this.db.close();
    return Promise.resolve();
  }

  /** Runs a synchronous statement as the port's promise; SQLite faults name the file. */
  #run<T>(fn: () => T): Promise<T> {
    try {
      return Promise.resolve(fn());
    } catch (err) {
      return Promise.reject(storeError(this.file, this.busyMs, err));
    }
  }
}

/** A version this store gave out is a positive integer; anything else matches no row. */
function versionNumber(version: string): number | undefined {
  return /^[1-9]\d{0,15}$/.test(version) ? Number(version) : undefined;
}
