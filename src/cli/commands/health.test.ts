/**
 * `fathom health --watch` as a command, over an in-memory cluster and a ManualClock: flags,
 * namespaces, output per event, the exit verdict, --timeout and Ctrl-C.
 */
import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../core/clock.js';
import { FathomError } from '../../core/errors.js';
import { createMemoryClusterReader, type MemoryClusterReader } from '../../status/index.js';
import { deployment } from '../../status/test-helpers.js';
import type { ClusterReaderOptions, OpenedClusterReader } from '../cluster-reader.js';
import type { Io } from '../context.js';
import { registerHealth } from './health.js';

const manifest = `
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: api}
`;

/** Yields to I/O until `done` holds (module loading and stdin are real; time is not). */
async function until(done: () => boolean): Promise<void> {
  for (let i = 0; i < 100_000 && !done(); i++) await new Promise<void>((r) => setImmediate(r));
  if (!done()) throw new Error('condition never held');
}

function setup(memory: MemoryClusterReader, opts: { tty?: boolean; input?: string } = {}) {
  const out: string[] = [];
  const clock = new ManualClock(Date.UTC(2026, 0, 1, 12, 0, 0));
  const ac = new AbortController();
  const opened: ClusterReaderOptions[] = [];
  let closed = false;
  const io: Io = {
    out: (t) => out.push(t),
    err: () => undefined,
    isTTY: opts.tty ?? false,
    env: {},
    cwd: '/',
    stdin: (async function* () {
      yield await Promise.resolve(opts.input ?? manifest);
    })(),
  };
  const openReader = (options: ClusterReaderOptions): Promise<OpenedClusterReader> => {
    opened.push(options);
    return Promise.resolve({
      backend: 'local',
      reader: memory,
      defaultNamespace: options.namespace ?? 'ctx-ns',
      scopeOf: () => Promise.resolve('Namespaced'),
      close: () => (closed = true),
    });
  };
  const program = new Command().exitOverride();
  registerHealth(program, io, { clock, openReader, signal: ac.signal, columns: 200 });
  let settled = false;
  const run = (args: string[]) => {
    const p = program.parseAsync(['node', 'fathom', 'health', ...args]);
    const result = p.then(
      () => undefined,
      (err: unknown) => err,
    );
    void result.finally(() => (settled = true));
    return result;
  };
  return { out, clock, ac, opened, run, settled: () => settled, closed: () => closed };
}

describe('fathom health --watch', () => {
  it('prints each change and exits 0 once every object is Current; -n fills in namespaces', async () => {
    const memory = createMemoryClusterReader([
      deployment('shop', 'web', 2),
      deployment('prod', 'api', 0),
    ]);
    const t = setup(memory);
    const result = t.run(['--watch', '-f', '-', '-n', 'prod']);
    await until(() => t.out.length === 2);
    expect(t.out).toEqual([
      '2026-01-01T12:00:00Z Deployment/shop/web Current Deployment is available. Replicas: 2\n',
      '2026-01-01T12:00:00Z Deployment/prod/api InProgress Available: 0/2\n',
    ]);
    memory.set(deployment('prod', 'api', 2));
    await t.clock.advance(2000);
    await until(t.settled);
    expect(await result).toBeUndefined();
    expect(t.out[2]).toBe(
      '2026-01-01T12:00:02Z Deployment/prod/api Current Deployment is available. Replicas: 2\n',
    );
    expect(t.opened).toEqual([{ backend: 'local', namespace: 'prod', requestTimeout: '0' }]);
    expect(t.closed()).toBe(true);
  });

  it("without -n, objects that name no namespace take the backend's default", async () => {
    const memory = createMemoryClusterReader([
      deployment('shop', 'web', 2),
      deployment('ctx-ns', 'api', 2),
    ]);
    const t = setup(memory);
    expect(await t.run(['--watch', '-f', '-', '-o', 'json', '--poll-interval', '5s'])).toBe(
      undefined,
    );
    expect(t.opened[0]!.namespace).toBeUndefined();
    expect(t.out.map((l) => (JSON.parse(l) as { namespace: string }).namespace)).toEqual([
      'shop',
      'ctx-ns',
    ]);
  });

  it('--until deleted exits 0 once everything is gone', async () => {
    const memory = createMemoryClusterReader([deployment('shop', 'web', 2)]);
    const t = setup(memory);
    const result = t.run(['--watch', '-f', '-', '-n', 'shop', '--until', 'deleted']);
    await until(() => t.out.length === 2);
    expect(t.out[1]).toBe('2026-01-01T12:00:00Z Deployment/shop/api NotFound Resource not found\n');
    memory.delete({ group: 'apps', kind: 'Deployment', namespace: 'shop', name: 'web' });
    await t.clock.advance(2000);
    await until(t.settled);
    expect(await result).toBeUndefined();
    expect(t.out.at(-1)).toBe(
      '2026-01-01T12:00:02Z Deployment/shop/web NotFound Resource not found\n',
    );
  });

  it('--timeout ends it with one line naming how many objects are not there yet', async () => {
    const memory = createMemoryClusterReader([
      deployment('shop', 'web', 0),
      deployment('shop', 'api', 2),
    ]);
    const t = setup(memory);
    const result = t.run(['--watch', '-f', '-', '-n', 'shop', '--timeout', '5s']);
    await until(() => t.out.length === 2);
    await t.clock.advance(4999);
    expect(t.settled()).toBe(false);
    await t.clock.advance(1);
    await until(t.settled);
    const err = (await result) as FathomError;
    expect(err).toBeInstanceOf(FathomError);
    expect(err.code).toBe('FATHOM_TIMEOUT');
    expect(err.message).toBe('timed out after 5s: 1 of 2 object(s) not yet Current');
    expect(t.clock.pending).toBe(0);
  });

  it('a Failed object (an errored session) is named in the --timeout line; --fail-fast ends at once', async () => {
    const session = {
      apiVersion: 'fathom.dev/v1alpha1',
      kind: 'Session',
      metadata: { name: 'lt', namespace: 'fathom' },
      spec: {},
      status: {
        state: 'Errored',
        conditions: [
          { type: 'Ready', status: 'False', reason: 'Errored', message: '' },
          { type: 'Stalled', status: 'True', reason: 'ContainerError', message: 'driver exited 3' },
        ],
      },
    };
    const t = setup(createMemoryClusterReader([session]), {
      input: 'apiVersion: fathom.dev/v1alpha1\nkind: Session\nmetadata: {name: lt}\n',
    });
    const result = t.run(['--watch', '-f', '-', '-n', 'fathom', '--timeout', '3s']);
    await until(() => t.out.length === 1);
    expect(t.out[0]).toBe('2026-01-01T12:00:00Z Session/fathom/lt Failed driver exited 3\n');
    await t.clock.advance(3000);
    const err = (await result) as FathomError;
    expect(err.message).toBe('timed out after 3s: 1 of 1 object(s) not yet Current (1 Failed)');

    // --fail-fast: it ends at the first read, before any time passes.
    const fast = setup(createMemoryClusterReader([session]), {
      input: 'apiVersion: fathom.dev/v1alpha1\nkind: Session\nmetadata: {name: lt}\n',
    });
    const ended = (await fast.run([
      '--watch',
      '-f',
      '-',
      '-n',
      'fathom',
      '--fail-fast',
    ])) as FathomError;
    expect(ended.code).toBe('FATHOM_NOT_READY');
    expect(ended.message).toBe('1 of 1 object(s) Failed, first Session/fathom/lt: driver exited 3');
    expect(fast.clock.pending).toBe(0);
    expect(fast.closed()).toBe(true);
  });

  it('Ctrl-C stops it: exit 0 if everything is Current (--until forever), else not ready', async () => {
    const memory = createMemoryClusterReader([
      deployment('shop', 'web', 2),
      deployment('shop', 'api', 2),
    ]);
    const forever = setup(memory);
    const ok = forever.run(['--watch', '-f', '-', '-n', 'shop', '--until', 'forever']);
    await forever.clock.advance(10_000);
    await until(() => forever.clock.pending > 0);
    forever.ac.abort();
    expect(await ok).toBeUndefined();

    memory.set(deployment('shop', 'api', 1));
    const current = setup(memory);
    const notReady = current.run(['--watch', '-f', '-', '-n', 'shop']);
    await until(() => current.out.length === 2);
    current.ac.abort();
    const err = (await notReady) as FathomError;
    expect(err.code).toBe('FATHOM_NOT_READY');
    expect(err.message).toBe('interrupted: 1 of 2 object(s) are not Current');
  });

  it('on a terminal, redraws a table in place and leaves the final one', async () => {
    const memory = createMemoryClusterReader([deployment('shop', 'web', 1)]);
    const t = setup(memory, { tty: true, input: manifest.split('---')[0] });
    const result = t.run(['--watch', '-f', '-']);
    await until(() => t.out.length === 1); // drawn once, at the Sync ending the first cycle
    memory.set(deployment('shop', 'web', 2));
    await t.clock.advance(2000);
    await until(t.settled);
    expect(await result).toBeUndefined();
    // eslint-disable-next-line no-control-regex
    const last = t.out.at(-1)!.replace(/\x1b\[\d+m/g, '');
    expect(last.startsWith('\r\x1b[4A\x1b[J')).toBe(true);
    expect(last).toMatch(/shop\s+Deployment\s+web\s+Current\s+Deployment is available/);
    expect(last).toContain('Current: 1 of 1 object(s) Current\n');
  });

  it('rejects watch flags without --watch, and objects without a name', async () => {
    const t = setup(createMemoryClusterReader());
    const usage = (await t.run(['-f', '-', '--until', 'deleted'])) as FathomError;
    expect(usage.code).toBe('FATHOM_USAGE');
    expect(usage.message).toBe('--until, --timeout, --poll-interval and --fail-fast need --watch');
    const fast = (await setup(createMemoryClusterReader()).run([
      '-f',
      '-',
      '--fail-fast',
    ])) as FathomError;
    expect(fast.code).toBe('FATHOM_USAGE');

    const nameless = setup(createMemoryClusterReader(), {
      input: 'apiVersion: v1\nkind: ConfigMap\nmetadata: {namespace: x}\n',
    });
    const err = (await nameless.run(['--watch', '-f', '-'])) as FathomError;
    expect(err.code).toBe('FATHOM_CONFIG_INVALID');
    expect(err.message).toBe('-:1: has no metadata.name');
    expect(nameless.opened).toEqual([]); // nothing was read from the cluster
  });
});
