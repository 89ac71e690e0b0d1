import { describe, expect, it } from 'vitest';
import { createMemoryClusterReader } from './memory.js';
import { cacheScopes, createCachingClusterReader, createDirectClusterReader } from './reader.js';
import type { ObjectIdentifier } from './types.js';
import { obj } from './test-helpers.js';

const id = (group: string, kind: string, namespace: string, name: string): ObjectIdentifier => ({
  group,
  kind,
  namespace,
  name,
});

const pod = (name: string, namespace: string, labels: Record<string, string> = {}) =>
  obj('v1', 'Pod', { metadata: { name, namespace, labels } });

describe('cacheScopes', () => {
  it('adds the generated kinds recursively, deduplicated, in first-seen order', () => {
    const scopes = cacheScopes([
      id('apps', 'Deployment', 'foo', 'a'),
      id('apps', 'Deployment', 'foo', 'b'),
      id('apps', 'Deployment', 'bar', 'c'),
    ]);
    expect(scopes.map((s) => `${s.kind}/${s.namespace}`)).toEqual([
      'Deployment/foo',
      'ReplicaSet/foo',
      'Pod/foo',
      'Deployment/bar',
      'ReplicaSet/bar',
      'Pod/bar',
    ]);
  });
  it('StatefulSet, DaemonSet and ReplicaSet add Pods; extensions/Deployment and others add nothing', () => {
    const scopes = cacheScopes([
      id('apps', 'DaemonSet', 'b', 'd'),
      id('apps', 'StatefulSet', 'a', 's'),
      id('', 'Pod', 'a', 'p'),
      id('extensions', 'Deployment', 'a', 'd'),
      id('', 'Namespace', '', 'a'),
    ]);
    expect(scopes.map((s) => `${s.group}/${s.kind}/${s.namespace}`)).toEqual([
      'apps/DaemonSet/b',
      '/Pod/b',
      'apps/StatefulSet/a',
      '/Pod/a',
      'extensions/Deployment/a',
      '/Namespace/',
    ]);
  });
});

describe('the caching reader', () => {
  it('LISTs once per scope per sync and answers every read from the snapshot', async () => {
    const memory = createMemoryClusterReader([
      pod('p1', 'a', { app: 'web' }),
      pod('p2', 'a', { app: 'db' }),
      pod('p3', 'b'),
    ]);
    const ids = [id('', 'Pod', 'a', 'p1'), id('', 'Pod', 'a', 'p2'), id('', 'Pod', 'b', 'p3')];
    const cache = createCachingClusterReader(memory, ids);
    await cache.sync!();
    expect(memory.requests).toEqual(['list Pod a', 'list Pod b']);
    expect((await cache.get(ids[0]!))?.metadata).toMatchObject({ name: 'p1' });
    expect(await cache.get(id('', 'Pod', 'a', 'gone'))).toBeUndefined();
    const web = await cache.list({ group: '', kind: 'Pod' }, 'a', { matchLabels: { app: 'web' } });
    expect(web.map((o) => (o.metadata as { name: string }).name)).toEqual(['p1']);
    expect(await cache.list({ group: '', kind: 'Pod' }, 'a')).toHaveLength(2);
    expect(memory.counts).toEqual({ get: 0, list: 2 });

    // The next sync sees changes, with the same two requests.
    memory.delete(ids[0]!);
    await cache.sync!();
    expect(await cache.get(ids[0]!)).toBeUndefined();
    expect(memory.counts).toEqual({ get: 0, list: 4 });
  });

  it('a pair outside the snapshot is an error', async () => {
    const cache = createCachingClusterReader(createMemoryClusterReader(), [
      id('', 'Pod', 'a', 'p'),
    ]);
    await expect(cache.get(id('', 'Pod', 'a', 'p'))).rejects.toThrow(
      'GroupKind Pod and Namespace a not found in cache',
    );
    await cache.sync!();
    await expect(cache.get(id('apps', 'Deployment', 'a', 'd'))).rejects.toThrow(
      'GroupKind Deployment.apps and Namespace a not found in cache',
    );
  });

  it('keeps a LIST error for the reads of that pair only', async () => {
    const memory = createMemoryClusterReader([pod('p', 'a'), pod('q', 'b')]);
    memory.failList({ group: '', kind: 'Pod' }, 'a', new Error('pods is forbidden'));
    const cache = createCachingClusterReader(memory, [
      id('', 'Pod', 'a', 'p'),
      id('', 'Pod', 'b', 'q'),
    ]);
    await cache.sync!();
    await expect(cache.get(id('', 'Pod', 'a', 'p'))).rejects.toThrow('pods is forbidden');
    expect(await cache.get(id('', 'Pod', 'b', 'q'))).toBeDefined();
  });

  it('an abort during sync is thrown, not stored', async () => {
    const memory = createMemoryClusterReader();
    const cache = createCachingClusterReader(memory, [id('', 'Pod', 'a', 'p')]);
    const ac = new AbortController();
    ac.abort();
    await expect(cache.sync!(ac.signal)).rejects.toThrow();
  });
});

describe('the direct reader', () => {
  it('passes every read to the backend', async () => {
    const memory = createMemoryClusterReader([pod('p', 'a', { app: 'x' })]);
    const direct = createDirectClusterReader(memory);
    await direct.sync!();
    await direct.get(id('', 'Pod', 'a', 'p'));
    await direct.list({ group: '', kind: 'Pod' }, 'a', { matchLabels: { app: 'x' } });
    expect(memory.requests).toEqual(['get Pod a/p', 'list Pod a {"matchLabels":{"app":"x"}}']);
  });
});

describe('the memory reader', () => {
  it('lists by kind and namespace ("" is all), returns copies, fails on request', async () => {
    const memory = createMemoryClusterReader([
      pod('p', 'a'),
      pod('q', 'b'),
      obj('v1', 'Namespace', { metadata: { name: 'a', namespace: undefined } }),
    ]);
    expect(await memory.list({ group: '', kind: 'Pod' }, '')).toHaveLength(2);
    expect(await memory.list({ group: '', kind: 'Namespace' }, '')).toHaveLength(1);
    const got = await memory.get(id('', 'Pod', 'a', 'p'));
    (got!.metadata as Record<string, unknown>).name = 'changed';
    expect((await memory.get(id('', 'Pod', 'a', 'p')))?.metadata).toMatchObject({ name: 'p' });
    memory.failGet(id('', 'Pod', 'a', 'p'), new Error('boom'));
    await expect(memory.get(id('', 'Pod', 'a', 'p'))).rejects.toThrow('boom');
    expect(memory.counts).toEqual({ get: 3, list: 2 });
    memory.resetCounts();
    expect(memory.counts).toEqual({ get: 0, list: 0 });
  });
});
