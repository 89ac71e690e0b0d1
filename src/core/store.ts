/**
 * A durable store: the shared port for state a controller must not lose across restarts (the
 * session queue and reservations, the check dispatcher's assignments). Collections of JSON
 * values under DNS-label keys, written with compare-and-swap on an opaque version so that two
 * writers (an old leader and a new one) never both win. Local: SQLite under `$FATHOM_HOME`;
 * Kubernetes: one ConfigMap per key, the version its resourceVersion.
 *
 * Values come back as `unknown`: `typedCollection` checks them against the domain's schema and
 * freezes them, so that state read back is validated once, at this edge.
 */
import { FathomError } from './errors.js';
import type { Schema, Static } from './schema.js';
import { validated } from './validated.js';

export interface StoredItem<T = unknown> {
  readonly key: string;
  readonly value: T;
  readonly version: string;
}

export interface Collection<T = unknown> {
  get(key: string): Promise<StoredItem<T> | undefined>;
  /** Every item, in key order. */
  list(): Promise<readonly StoredItem<T>[]>;
  /** Writes a new key; undefined when it exists already. Otherwise the new version. */
  create(key: string, value: T): Promise<string | undefined>;
  /** Replaces the value if still at `version`; undefined when it changed or went meanwhile. */
  update(key: string, value: T, version: string): Promise<string | undefined>;
  /** Deletes the key (only at `version` when given); false when absent or changed. */
  remove(key: string, version?: string): Promise<boolean>;
}

/** What a backend provides: named collections in one store. */
export interface DurableStore {
  collection(name: string): Collection;
  close(): Promise<void>;
}

/** A value is one ConfigMap on Kubernetes (1 MiB with its metadata): keep well under. */
export const storeLimits = { valueBytes: 512 * 1024 } as const;

const dnsLabel = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

/** Throws FATHOM_STORE_INVALID unless `name` is a DNS label of at most `max` characters. */
export function checkStoreName(what: 'collection' | 'key', name: string, max = 63): void {
  if (!dnsLabel.test(name) || name.length > max) {
    throw new FathomError(
      'FATHOM_STORE_INVALID',
      `store ${what} ${JSON.stringify(name)} must be a DNS label of at most ${max} characters`,
    );
  }
}

/** The value as JSON text, refused with FATHOM_STORE_INVALID when over `storeLimits`. */
export function encodeValue(where: string, value: unknown): string {
  const text = JSON.stringify(value);
  if (text === undefined) {
    throw new FathomError('FATHOM_STORE_INVALID', `${where}: the value is not JSON`);
  }
  if (Buffer.byteLength(text) > storeLimits.valueBytes) {
    throw new FathomError(
      'FATHOM_STORE_INVALID',
      `${where}: the value is over ${storeLimits.valueBytes / 1024} KiB`,
    );
  }
  return text;
}

/**
 * A collection whose values are checked against `schema` when read (FATHOM_STATE_INVALID naming
 * `<where>/<key>` and the field) and frozen.
 */
export function typedCollection<S extends Schema<unknown>>(
  inner: Collection,
  schema: S,
  where: string,
): Collection<Static<S>> {
  const check = (item: StoredItem | undefined): StoredItem<Static<S>> | undefined =>
    item && {
      ...item,
      value: validated(schema, item.value, { file: `${where}/${item.key}` }),
    };
  return {
    get: async (key) => check(await inner.get(key)),
    list: async () => (await inner.list()).map((i) => check(i)!),
    create: (key, value) => inner.create(key, value),
    update: (key, value, version) => inner.update(key, value, version),
    remove: (key, version) => inner.remove(key, version),
  };
}
