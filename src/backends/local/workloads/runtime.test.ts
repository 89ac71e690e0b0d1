import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../../core/clock.js';
import { isFathomError } from '../../../core/errors.js';
import type { WorkloadRuntime, WorkloadSpec } from '../../../core/workload.js';
import { untilPhase, workloadContract } from '../../../../test/support/workload-contract.js';
import { files, workloadDirOf, workloadNames } from './files.js';
import { createLocalWorkloadRuntime } from './runtime.js';

const nodes = ['node-1', 'node-2'] as const;
let home: string;
let runtime: WorkloadRuntime;

beforeAll(async () => {
  home = await mkdtemp(join(tmpdir(), 'fathom-workloads-'));
  // The system clock: these tests wait on events through watch, never on time.
  runtime = createLocalWorkloadRuntime({ home, clock: systemClock, nodes });
});
afterAll(async () => {
  // A failed test leaves no process behind.
  for (const n of await workloadNames(home)) await runtime.remove(n, { graceMs: 1000 });
  await rm(home, { recursive: true, force: true });
});

const name = (): string => `w-${randomBytes(4).toString('hex')}`;
const script = (code: string): readonly [string, ...string[]] => [process.execPath, '-e', code];

async function text(chunks: AsyncIterable<Buffer>): Promise<string> {
  const parts: Buffer[] = [];
  for await (const c of chunks) parts.push(c);
  return Buffer.concat(parts).toString('utf8');
}

/** What the server at `address` answers over HTTP, or 'nothing' when none answers. */
const answer = (address: string): Promise<string> =>
  fetch(`http://${address}/`).then(
    (r) => r.text(),
    () => 'nothing',
  );

/** Running means started: a server's own word says when it listens. */
async function listening(r: WorkloadRuntime, workload: string): Promise<void> {
  const stop = new AbortController();
  let said = '';
  for await (const c of r.logs(workload, 'srv', { follow: true, signal: stop.signal })) {
    said += c.toString('utf8');
    if (said.includes('listening')) stop.abort();
  }
  if (!said.includes('listening')) throw new Error(`${workload} ended before it listened`);
}

describe('local workloads: the contract', () => {
  workloadContract(() => ({ runtime, nodes }));
});

describe('local workloads: another process reads and removes them', () => {
  it('a second runtime over the same home gets, lists, follows and removes what the first placed', async () => {
    const other = createLocalWorkloadRuntime({ home, clock: systemClock, nodes });
    const n = name();
    // What this server answers: after removal its port may serve another test's process.
    const token = `up-${n}`;
    const serve = `process.on("SIGTERM", () => process.exit(0)); require("node:http").createServer((q, s) => s.end(${JSON.stringify(token)})).listen(Number(process.env.FATHOM_PORT), () => console.log("listening"))`;
    await runtime.place({
      name: n,
      owner: n,
      node: 'node-2',
      containers: [{ name: 'srv', command: script(serve), port: 1 }],
    });
    const seen = await untilPhase(other, n, n, ['Running', 'Failed']);
    expect(seen).toMatchObject({ phase: 'Running', node: 'node-2' });
    expect((await other.list(n)).map((w) => w.name)).toEqual([n]);
    await listening(other, n);
    expect(await answer(seen.addresses.srv!)).toBe(token);

    expect(await other.remove(n, { graceMs: 5000 })).toBe(true);
    expect(await answer(seen.addresses.srv!)).not.toBe(token);
    expect(await runtime.get(n)).toBeUndefined();
    expect(await runtime.remove(n)).toBe(false);
  });

  it('outlives the process that placed it: read, ended and removed by processes that did not place it', async () => {
    const [n, q] = [name(), name()];
    // What these servers answer: after removal its port may serve another test's process.
    const token = `up-${n}`;
    const module = new URL('./runtime.ts', import.meta.url).pathname;
    const serve = (extra: string): WorkloadSpec['containers'][number] => ({
      name: 'srv',
      command: script(
        `require("node:http").createServer((q, s) => { s.end(${JSON.stringify(token)}); ${extra} }).listen(Number(process.env.FATHOM_PORT), () => console.log("listening"))`,
      ),
      port: 1,
    });
    const specs: WorkloadSpec[] = [
      { name: n, owner: n, node: 'node-1', containers: [serve('')] },
      { name: q, owner: n, node: 'node-2', containers: [serve('process.exit(0)')] },
    ];
    // A real other process places both and exits: their containers live on, unsupervised.
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        '--input-type=module',
        '-e',
        `import { createLocalWorkloadRuntime } from ${JSON.stringify(module)};
         const r = createLocalWorkloadRuntime({ home: ${JSON.stringify(home)}, clock: { now: Date.now }, nodes: ['node-1', 'node-2'] });
         for (const spec of ${JSON.stringify(specs)}) await r.place(spec);
         process.exit(0);`,
      ],
      { stdio: 'inherit' },
    );
    expect(await new Promise((r) => child.once('exit', r))).toBe(0);
    const running = await untilPhase(runtime, n, n, ['Running', 'Failed']);
    expect(running.phase).toBe('Running');

    // Nobody is left to record how the second one ends: it ended, with an unknown exit code.
    const quitting = await untilPhase(runtime, n, q, ['Running', 'Failed']);
    await listening(runtime, q);
    await fetch(`http://${quitting.addresses.srv!}/`).catch(() => undefined);
    const ended = await untilPhase(runtime, n, q, ['Failed', 'Succeeded']);
    expect(ended.containers[0]).toMatchObject({
      state: 'terminated',
      exitCode: null,
      reason: 'ContainerStatusUnknown',
    });

    expect(await runtime.remove(n, { graceMs: 5000 })).toBe(true);
    expect(await answer(running.addresses.srv!)).not.toBe(token);
    expect(await runtime.remove(q)).toBe(true);
  });

  it('a watch reports an unreadable workload as an error event and goes on', async () => {
    const n = name();
    const stop = new AbortController();
    const events = runtime.watch(n, stop.signal)[Symbol.asyncIterator]();
    await runtime.place({
      name: n,
      owner: n,
      node: 'node-1',
      containers: [{ name: 'main', command: script('') }],
    });
    const spec = join(workloadDirOf(home, n), files.spec);
    const good = await readFile(spec, 'utf8');
    const next = async (type: string): Promise<unknown> => {
      for (;;) {
        const r = await events.next();
        if (r.done) throw new Error('the watch ended');
        if (r.value.type === type) return r.value;
      }
    };
    await next('changed');
    await writeFile(spec, 'not json');
    expect(await next('error')).toMatchObject({ error: { code: 'FATHOM_STATE_INVALID' } });
    await writeFile(spec, good);
    expect(await runtime.remove(n)).toBe(true);
    expect(await next('removed')).toEqual({ type: 'removed', name: n });
    stop.abort();
    expect((await events.next()).done).toBe(true);
  });
});

describe('local workloads: faults', () => {
  it('a command that does not exist ends Failed as a StartError, and still removes', async () => {
    const n = name();
    await runtime.place({
      name: n,
      owner: n,
      node: 'node-1',
      containers: [{ name: 'main', command: ['/no/such/fathom-command'] }],
    });
    const done = await untilPhase(runtime, n, n, ['Failed', 'Succeeded']);
    expect(done.phase).toBe('Failed');
    expect(done.containers[0]).toMatchObject({
      state: 'terminated',
      reason: 'StartError',
      message: expect.stringContaining('/no/such/fathom-command'),
    });
    expect(await runtime.remove(n)).toBe(true);
  });

  it('gives a container a minimal environment, not this process', async () => {
    const n = name();
    process.env.FATHOM_TEST_LEAK = 'leaked';
    try {
      await runtime.place({
        name: n,
        owner: n,
        node: 'node-1',
        containers: [
          {
            name: 'main',
            command: script('console.log(Object.keys(process.env).sort().join(","))'),
            env: { MINE: '1' },
          },
        ],
      });
    } finally {
      delete process.env.FATHOM_TEST_LEAK;
    }
    await untilPhase(runtime, n, n, ['Succeeded', 'Failed']);
    // Its env is in workload.json: only this user reads the directory.
    expect((await stat(workloadDirOf(home, n))).mode & 0o777).toBe(0o700);
    const keys = (await text(runtime.logs(n, 'main'))).trim().split(',');
    expect(keys).toContain('MINE');
    expect(keys).toContain('PATH');
    expect(keys.filter((k) => !['HOME', 'LANG', 'TMPDIR', 'PATH', 'MINE'].includes(k))).toEqual([]);
    await runtime.remove(n);
  });

  it('a corrupt status.json or workload.json is one line naming the file', async () => {
    const n = name();
    await runtime.place({
      name: n,
      owner: n,
      node: 'node-1',
      containers: [{ name: 'main', command: script('') }],
    });
    await untilPhase(runtime, n, n, ['Succeeded', 'Failed']);
    const dir = workloadDirOf(home, n);
    const oneLine = async (file: string): Promise<string> => {
      const err: unknown = await runtime.get(n).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(isFathomError(err, 'FATHOM_STATE_INVALID')).toBe(true);
      const message = (err as Error).message;
      expect(message).toContain(file);
      expect(message).not.toContain('\n');
      return message;
    };
    const status = join(dir, files.status);
    await writeFile(status, '{"containers": [');
    expect(await oneLine(status)).toContain('not JSON');

    const spec = join(dir, files.spec);
    const good = await readFile(spec, 'utf8');
    await writeFile(spec, good.replace('"supervisor": ', '"supervisor": "x", "was": '));
    expect(await oneLine(spec)).toContain(`${spec}: supervisor:`);
    // Corrupt state does not keep it from being removed.
    expect(await runtime.remove(n)).toBe(true);
  });
});
