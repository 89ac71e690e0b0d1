import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isFathomError } from '../../core/errors.js';
import type { Collection, DurableStore } from '../../core/store.js';
import { storeContract } from '../../../test/support/store-contract.js';
import { openLocalStore, openLocalStoreReadOnly, stateDbOf } from './durable-store.js';

let home: string;
const opened: DurableStore[] = [];

beforeAll(async () => {
  home = await mkdtemp(join(tmpdir(), 'fathom-store-'));
});
afterAll(async () => {
  await Promise.all(opened.map((s) => s.close()));
  await rm(home, { recursive: true, force: true });
});

function open(): DurableStore {
  const store = openLocalStore(home);
  opened.push(store);
  return store;
}

describe('the local durable store (SQLite)', () => {
  storeContract(() => ({
    open: () => Promise.resolve(open()),
    collection: () => `c-${randomBytes(4).toString('hex')}`,
  }));

  it('keeps its file private to the user', async () => {
    open();
    expect((await stat(stateDbOf(home))).mode & 0o777).toBe(0o600);
  });

  it('never matches a version from before a key was removed and created again', async () => {
    const c = open().collection('aba');
    const v1 = (await c.create('k', 1))!;
    expect(await c.remove('k')).toBe(true);
    const v2 = (await c.create('k', 2))!;
    expect(v2).not.toBe(v1);
    expect(await c.update('k', 3, v1)).toBeUndefined();
    expect(await c.update('k', 3, 'not-a-version')).toBeUndefined();
    expect((await c.get('k'))?.value).toBe(2);
  });

  it('loses no update when another process increments the same key at the same time', async () => {
    const rounds = 400;
    const c = open().collection('race');
    await c.create('counter', 0);
    const increment = async (col: Collection): Promise<void> => {
      for (;;) {
        const cur = (await col.get('counter'))!;
        if ((await col.update('counter', (cur.value as number) + 1, cur.version)) !== undefined) {
          return;
        }
      }
    };
    const module = new URL('./durable-store.ts', import.meta.url).pathname;
    // The child imports this module through tsx, so it needs no build; it says when it has
    // opened the store so that both loops run together.
    const script = `
      import { openLocalStore } from ${JSON.stringify(module)};
      const c = openLocalStore(${JSON.stringify(home)}).collection('race');
      console.log('ready');
      for (let i = 0; i < ${rounds}; i++) {
        for (;;) {
          const cur = await c.get('counter');
          if ((await c.update('counter', cur.value + 1, cur.version)) !== undefined) break;
        }
      }`;
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', '--input-type=module', '-e', script],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    const exit = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (d: Buffer) => d.toString().includes('ready') && resolve());
      child.once('exit', () => reject(new Error('the child ended before it was ready')));
    });
    for (let i = 0; i < rounds; i++) await increment(c);
    expect(await exit).toBe(0);
    expect((await c.get('counter'))?.value).toBe(2 * rounds);
  });

  it('a file that is not a SQLite database is one line naming it', async () => {
    const bad = await mkdtemp(join(tmpdir(), 'fathom-store-bad-'));
    try {
      await writeFile(stateDbOf(bad), 'this is not a database, it is plain text\n'.repeat(200));
      let caught: unknown;
      try {
        openLocalStore(bad);
      } catch (err) {
        caught = err;
      }
      expect(isFathomError(caught, 'FATHOM_STATE_INVALID')).toBe(true);
      const message = (caught as Error).message;
      expect(message).toContain(stateDbOf(bad));
      expect(message).not.toContain('\n');
    } finally {
      await rm(bad, { recursive: true, force: true });
    }
  });

  it('a database another process keeps locked is one line naming it, after the busy timeout', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'fathom-store-locked-'));
    const store = openLocalStore(dir, { busyTimeoutMs: 50 });
    const holder = new Database(stateDbOf(dir));
    try {
      holder.exec('BEGIN EXCLUSIVE');
      let caught: unknown;
      await store
        .collection('c')
        .create('k', 1)
        .catch((err: unknown) => (caught = err));
      expect(isFathomError(caught, 'FATHOM_STATE_LOCKED')).toBe(true);
      expect((caught as Error).message).toBe(
        `${stateDbOf(dir)}: locked by another process for more than 50 ms`,
      );
      holder.exec('ROLLBACK');
      // Nothing was lost or reset: once the lock is gone, writes go through.
      expect(await store.collection('c').create('k', 1)).toBeDefined();
    } finally {
      holder.close();
      await store.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('the local durable store, opened read-only (observers)', () => {
  it('is absent without state.db or its table, sees what writers wrote, and writes nothing', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'fathom-store-ro-'));
    try {
      expect(openLocalStoreReadOnly(dir)).toBeUndefined();
      await expect(stat(stateDbOf(dir))).rejects.toMatchObject({ code: 'ENOENT' });
      // An empty file is a SQLite database without fathom's table yet.
      await writeFile(stateDbOf(dir), '');
      expect(openLocalStoreReadOnly(dir)).toBeUndefined();

      const writer = openLocalStore(dir);
      await writer.collection('c').create('k', { n: 1 });
      const reader = openLocalStoreReadOnly(dir)!;
      expect((await reader.collection('c').get('k'))?.value).toEqual({ n: 1 });
      await writer.collection('c').create('k2', { n: 2 });
      expect((await reader.collection('c').list()).map((i) => i.key)).toEqual(['k', 'k2']);
      await expect(reader.collection('c').create('k3', { n: 3 })).rejects.toThrow(/readonly/);
      await reader.close();
      await writer.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
