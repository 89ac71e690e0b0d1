/**
 * The workload port's contract, run against every backend's adapter: process groups on the
 * local backend, Pods bound to the test pod runner's nodes on Kubernetes. Containers are this
 * Node running a small script, so both backends run the same thing; waiting is on `watch`.
 */
import { randomBytes } from 'node:crypto';
import { expect, it } from 'vitest';
import { isFathomError } from '../../src/core/errors.js';
import type {
  WorkloadContainer,
  WorkloadPhase,
  WorkloadRuntime,
  WorkloadSpec,
  WorkloadState,
} from '../../src/core/workload.js';

export interface WorkloadContext {
  readonly runtime: WorkloadRuntime;
  /** Nodes workloads may be placed on (at least two). */
  readonly nodes: readonly [string, string, ...string[]];
  /** The image every container names (Kubernetes needs one; the pod runner ignores it). */
  readonly image?: string;
}

const node = (script: string): readonly [string, ...string[]] => [process.execPath, '-e', script];

function owner(): string {
  return `t-${randomBytes(4).toString('hex')}`;
}

/** The first state of `name` whose phase is one of `phases`, seen through `watch`. */
export async function untilPhase(
  runtime: WorkloadRuntime,
  ownerName: string,
  name: string,
  phases: readonly WorkloadPhase[],
): Promise<WorkloadState> {
  const stop = new AbortController();
  try {
    for await (const e of runtime.watch(ownerName, stop.signal)) {
      if (e.type === 'changed' && e.workload.name === name && phases.includes(e.workload.phase)) {
        return e.workload;
      }
    }
    throw new Error('watch ended');
  } finally {
    stop.abort();
  }
}

async function text(chunks: AsyncIterable<Buffer>): Promise<string> {
  const parts: Buffer[] = [];
  for await (const c of chunks) parts.push(c);
  return Buffer.concat(parts).toString('utf8');
}

export function workloadContract(ctx: () => WorkloadContext): void {
  const spec = (
    o: string,
    name: string,
    nodeName: string,
    containers: readonly Omit<WorkloadContainer, 'image'>[],
  ): WorkloadSpec => {
    const { image } = ctx();
    return {
      name,
      owner: o,
      node: nodeName,
      containers: containers.map((c) => ({ ...c, ...(image ? { image } : {}) })),
    };
  };

  it('runs a workload to Succeeded on its node and keeps its output', async () => {
    const { runtime, nodes } = ctx();
    const o = owner();
    const placed = await runtime.place(
      spec(o, `${o}-ok`, nodes[1], [
        {
          name: 'main',
          command: node('console.log("hello from", process.env.GREETING)'),
          env: { GREETING: 'fathom' },
        },
      ]),
    );
    expect(placed).toMatchObject({ name: `${o}-ok`, owner: o, node: nodes[1] });
    const done = await untilPhase(runtime, o, `${o}-ok`, ['Succeeded', 'Failed']);
    expect(done.phase).toBe('Succeeded');
    expect(done.containers).toEqual([
      expect.objectContaining({ name: 'main', state: 'terminated', exitCode: 0 }),
    ]);
    expect(await text(runtime.logs(`${o}-ok`, 'main'))).toBe('hello from fathom\n');
    expect((await runtime.get(`${o}-ok`))?.phase).toBe('Succeeded');
  });

  it('reports a failing container with its exit code and the workload as Failed', async () => {
    const { runtime, nodes } = ctx();
    const o = owner();
    await runtime.place(
      spec(o, `${o}-bad`, nodes[0], [
        { name: 'ok', command: node('') },
        { name: 'bad', command: node('console.error("broken"); process.exit(3)') },
      ]),
    );
    const done = await untilPhase(runtime, o, `${o}-bad`, ['Failed', 'Succeeded']);
    expect(done.phase).toBe('Failed');
    const bad = done.containers.find((c) => c.name === 'bad');
    expect(bad).toMatchObject({ state: 'terminated', exitCode: 3 });
    expect(await text(runtime.logs(`${o}-bad`, 'bad'))).toContain('broken');
  });

  it('gives a serving container FATHOM_PORT and names its address', async () => {
    const { runtime, nodes } = ctx();
    const o = owner();
    // On FATHOM_HOST when the backend names one: the pod runner's pods share one network.
    const server = node(
      'require("node:http").createServer((q, s) => s.end("port " + process.env.FATHOM_PORT)).listen(Number(process.env.FATHOM_PORT), process.env.FATHOM_HOST, () => console.log("listening"))',
    );
    await runtime.place(
      spec(o, `${o}-srv`, nodes[0], [{ name: 'srv', command: server, port: 8080 }]),
    );
    const running = await untilPhase(runtime, o, `${o}-srv`, ['Running', 'Failed']);
    expect(running.phase).toBe('Running');
    const address = running.addresses.srv;
    expect(address).toMatch(/^[\d.]+:\d+$/);
    // Running means started, not listening: wait for the server to say so in its log.
    const stop = new AbortController();
    let said = '';
    for await (const c of runtime.logs(`${o}-srv`, 'srv', { follow: true, signal: stop.signal })) {
      said += c.toString('utf8');
      if (said.includes('listening')) stop.abort();
    }
    const body = await fetch(`http://${address}/`).then((r) => r.text());
    expect(body).toBe(`port ${address!.split(':')[1]}`);
    expect(await runtime.remove(`${o}-srv`, { graceMs: 2000 })).toBe(true);
  });

  it('follows logs until the container ends', async () => {
    const { runtime, nodes } = ctx();
    const o = owner();
    await runtime.place(
      spec(o, `${o}-log`, nodes[0], [
        {
          name: 'main',
          command: node(
            'let i = 0; const t = setInterval(() => { console.log("tick", ++i); if (i === 5) clearInterval(t); }, 20)',
          ),
        },
      ]),
    );
    await untilPhase(runtime, o, `${o}-log`, ['Running', 'Succeeded']);
    const followed = await text(runtime.logs(`${o}-log`, 'main', { follow: true }));
    expect(followed).toBe('tick 1\ntick 2\ntick 3\ntick 4\ntick 5\n');
  });

  it('lists by owner, removes with a grace period and says removed on the watch', async () => {
    const { runtime, nodes } = ctx();
    const [o, other] = [owner(), owner()];
    const forever = node(
      'process.on("SIGTERM", () => process.exit(0)); setInterval(() => {}, 1000)',
    );
    await runtime.place(spec(o, `${o}-a`, nodes[0], [{ name: 'main', command: forever }]));
    await runtime.place(spec(o, `${o}-b`, nodes[1], [{ name: 'main', command: forever }]));
    await runtime.place(spec(other, `${other}-c`, nodes[0], [{ name: 'main', command: forever }]));
    expect((await runtime.list(o)).map((w) => w.name).sort()).toEqual([`${o}-a`, `${o}-b`]);
    await untilPhase(runtime, o, `${o}-a`, ['Running']);

    const stop = new AbortController();
    const seen: string[] = [];
    // Remove only once the watch has shown both: one removed before its first look is simply
    // never there for it.
    const shown = new Set<string>();
    let bothShown!: () => void;
    const initial = new Promise<void>((r) => (bothShown = r));
    const watching = (async () => {
      for await (const e of runtime.watch(o, stop.signal)) {
        if (e.type === 'changed') shown.add(e.workload.name);
        if (shown.has(`${o}-a`) && shown.has(`${o}-b`)) bothShown();
        if (e.type === 'removed') seen.push(e.name);
        if (seen.length === 2) stop.abort();
      }
    })();
    await initial;
    expect(await runtime.remove(`${o}-a`, { graceMs: 5000 })).toBe(true);
    expect(await runtime.remove(`${o}-b`, { graceMs: 5000 })).toBe(true);
    await watching;
    expect(seen.sort()).toEqual([`${o}-a`, `${o}-b`]);
    expect(await runtime.get(`${o}-a`)).toBeUndefined();
    expect(await runtime.list(o)).toEqual([]);
    expect(await runtime.remove(`${o}-a`)).toBe(false);
    expect((await runtime.list(other)).map((w) => w.name)).toEqual([`${other}-c`]);
    await runtime.remove(`${other}-c`, { graceMs: 5000 });
  });

  it('refuses a taken name, a bad spec and an unknown node before starting anything', async () => {
    const { runtime, nodes } = ctx();
    const o = owner();
    const code = (p: Promise<unknown>): Promise<unknown> =>
      p.then(
        () => 'placed',
        (e: unknown) => (isFathomError(e) ? e.code : e),
      );
    await runtime.place(spec(o, `${o}-x`, nodes[0], [{ name: 'main', command: node('') }]));
    expect(
      await code(runtime.place(spec(o, `${o}-x`, nodes[0], [{ name: 'main', command: node('') }]))),
    ).toBe('FATHOM_WORKLOAD_EXISTS');
    expect(
      await code(
        runtime.place(spec(o, 'Bad_Name', nodes[0], [{ name: 'main', command: node('') }])),
      ),
    ).toBe('FATHOM_WORKLOAD_INVALID');
    expect(
      await code(
        runtime.place(spec(o, `${o}-y`, 'no-such-node', [{ name: 'main', command: node('') }])),
      ),
    ).toBe('FATHOM_WORKLOAD_INVALID');
    expect((await runtime.list(o)).map((w) => w.name)).toEqual([`${o}-x`]);
    await runtime.remove(`${o}-x`);
  });
}
