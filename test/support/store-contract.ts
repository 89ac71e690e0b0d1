/**
 * The durable store's contract, run against every backend's adapter: the local SQLite store in
 * its unit test, the ConfigMap store against the test control plane. `open` returns a fresh
 * store over the same state each call (another process's view), so races are real.
 */
import { expect, it } from 'vitest';
import { isFathomError } from '../../src/core/errors.js';
import { Type } from '../../src/core/schema.js';
import { storeLimits, typedCollection, type DurableStore } from '../../src/core/store.js';

export interface StoreContext {
  /** Another handle on the same store (the first call may create it). */
  readonly open: () => Promise<DurableStore>;
  /** A collection name no other test uses. */
  readonly collection: () => string;
}

export function storeContract(ctx: () => StoreContext): void {
  it('creates once, reads back, lists in key order and keeps collections apart', async () => {
    const { open, collection } = ctx();
    const store = await open();
    const [a, b] = [store.collection(collection()), store.collection(collection())];
    expect(await a.get('x')).toBeUndefined();
    const v1 = await a.create('x', { n: 1, s: 'é', list: [1, null] });
    expect(v1).toEqual(expect.any(String));
    expect(await a.create('x', { n: 2 })).toBeUndefined();
    await a.create('a', 'first');
    expect(await a.get('x')).toEqual({
      key: 'x',
      value: { n: 1, s: 'é', list: [1, null] },
      version: v1,
    });
    expect((await a.list()).map((i) => i.key)).toEqual(['a', 'x']);
    expect(await b.list()).toEqual([]);
    expect(await b.get('x')).toBeUndefined();
  });

  it('replaces and removes only at the version read', async () => {
    const { open, collection } = ctx();
    const c = (await open()).collection(collection());
    const v1 = (await c.create('k', 1))!;
    const v2 = await c.update('k', 2, v1);
    expect(v2).toEqual(expect.any(String));
    expect(v2).not.toBe(v1);
    expect(await c.update('k', 3, v1)).toBeUndefined(); // stale
    expect(await c.update('gone', 3, v2!)).toBeUndefined();
    expect(await c.remove('k', v1)).toBe(false);
    expect((await c.get('k'))?.value).toBe(2);
    expect(await c.remove('k', v2)).toBe(true);
    expect(await c.remove('k')).toBe(false);
    expect(await c.get('k')).toBeUndefined();
  });

  it('lets exactly one of two writers at the same version win, across handles', async () => {
    const { open, collection } = ctx();
    const name = collection();
    const [one, two] = [(await open()).collection(name), (await open()).collection(name)];
    const v = (await one.create('leader', { term: 1 }))!;
    const results = await Promise.all([
      one.update('leader', { term: 2, by: 'one' }, v),
      two.update('leader', { term: 2, by: 'two' }, v),
    ]);
    expect(results.filter((r) => r !== undefined)).toHaveLength(1);
    const winner = results[0] !== undefined ? 'one' : 'two';
    expect((await two.get('leader'))?.value).toEqual({ term: 2, by: winner });
  });

  it('loses no update when writers retry on conflict', async () => {
    const { open, collection } = ctx();
    const name = collection();
    const handles = await Promise.all([open(), open(), open()]);
    await handles[0].collection(name).create('counter', 0);
    const increment = async (h: DurableStore): Promise<void> => {
      const c = h.collection(name);
      for (;;) {
        const cur = (await c.get('counter'))!;
        if ((await c.update('counter', (cur.value as number) + 1, cur.version)) !== undefined) {
          return;
        }
      }
    };
    await Promise.all(Array.from({ length: 12 }, (_, i) => increment(handles[i % 3]!)));
    expect((await handles[1].collection(name).get('counter'))?.value).toBe(12);
  });

  it('refuses bad names and oversized values before writing', async () => {
    const { open, collection } = ctx();
    const store = await open();
    const c = store.collection(collection());
    const code = (p: Promise<unknown>): Promise<unknown> =>
      p.then(
        () => 'written',
        (e: unknown) => (isFathomError(e, 'FATHOM_STORE_INVALID') ? 'refused' : e),
      );
    expect(await code(c.create('Not_A_Label', 1))).toBe('refused');
    expect(await code(c.create('../x', 1))).toBe('refused');
    expect(await code(c.create('big', 'x'.repeat(storeLimits.valueBytes + 1)))).toBe('refused');
    expect(() => store.collection('UPPER')).toThrow(/DNS label/);
    expect(await c.list()).toEqual([]);
  });

  it('validates what it reads back when typed, naming the key and field', async () => {
    const { open, collection } = ctx();
    const name = collection();
    const raw = (await open()).collection(name);
    await raw.create('good', { term: 3 });
    await raw.create('bad', { term: 'three' });
    const typed = typedCollection(raw, Type.Object({ term: Type.Integer() }), `store ${name}`);
    const good = await typed.get('good');
    expect(good?.value.term).toBe(3);
    expect(Object.isFrozen(good?.value)).toBe(true);
    await expect(typed.get('bad')).rejects.toThrow(`store ${name}/bad: term:`);
  });
}
