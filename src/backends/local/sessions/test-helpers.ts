/**
 * Shared by the local sessions tests: a temp home with the real SQLite store and the real
 * local workload runtime, sessions built through the real parser, and `node -e` components.
 * The runtime polls on the system clock (processes take real time); the controller, its
 * timeouts and its ticks run on a manual clock.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect } from 'vitest';
import { ManualClock, systemClock } from '../../../core/clock.js';
import type { DurableStore } from '../../../core/store.js';
import type { WorkloadRuntime, WorkloadSpec } from '../../../core/workload.js';
import type {
  ControllerOptions,
  Pools,
  Session,
  SessionState,
  SessionStore,
} from '../../../sessions/index.js';
import {
  isFinal,
  parseSessionText,
  poolsFromNodes,
  SessionController,
  sessionStoreOver,
} from '../../../sessions/index.js';
import { nodesIn } from '../../../sessions/test-helpers.js';
import { openLocalStore } from '../durable-store.js';
import { createLocalWorkloadRuntime, workloadNames } from '../workloads/index.js';

export const poolSizes = { srv: 2, cli: 2, drv: 3 } as const;
export const allNodes = nodesIn(poolSizes);

export interface Home {
  readonly home: string;
  readonly clock: ManualClock;
  readonly pools: Pools;
  /** Every place, in order (the real runtime underneath). */
  readonly placed: string[];
  /** Every remove, in order. */
  readonly removed: string[];
  /** Resolves once a workload of that name was placed. */
  whenPlaced(name: string): Promise<void>;
  /** A controller with its own store handle and runtime over this home (a new process). */
  controller(opts?: Partial<ControllerOptions>): Promise<SessionController>;
  sessions(): SessionStore;
  /** Its own store handle, to close under a running executor. */
  rawStore(): DurableStore;
  /** A workload runtime over this home (recording places). */
  runtime(): WorkloadRuntime;
  /** Lets every driver waiting on `go` finish. */
  go(): Promise<void>;
  readonly goFile: string;
  close(): Promise<void>;
}

export async function newHome(): Promise<Home> {
  const home = await mkdtemp(join(tmpdir(), 'fathom-sessions-'));
  const clock = new ManualClock(Date.parse('2026-03-01T00:00:00Z'));
  const pools = poolsFromNodes(allNodes);
  const placed: string[] = [];
  const removed: string[] = [];
  const waiting = new Map<string, () => void>();
  const stores: DurableStore[] = [];
  const runtimes: WorkloadRuntime[] = [];
  const newRuntime = (): WorkloadRuntime => {
    const inner = createLocalWorkloadRuntime({
      home,
      clock: systemClock,
      nodes: allNodes.map((n) => n.name),
    });
    runtimes.push(inner);
    return {
      ...inner,
      get: (n) => inner.get(n),
      list: (o) => inner.list(o),
      watch: (o, s) => inner.watch(o, s),
      logs: (n, c, opts) => inner.logs(n, c, opts),
      remove: (n, opts) => {
        removed.push(n);
        return inner.remove(n, opts);
      },
      place: (spec: WorkloadSpec) => {
        placed.push(spec.name);
        const placing = inner.place(spec);
        void placing.then(() => waiting.get(spec.name)?.());
        return placing;
      },
    };
  };
  const rawStore = (): DurableStore => {
    const s = openLocalStore(home);
    stores.push(s);
    return s;
  };
  const sessions = (): SessionStore => sessionStoreOver(rawStore());
  const goFile = join(home, 'go');
  return {
    home,
    clock,
    pools,
    placed,
    removed,
    whenPlaced: (name) =>
      placed.includes(name)
        ? Promise.resolve()
        : new Promise((resolve) => waiting.set(name, resolve)),
    goFile,
    sessions,
    rawStore,
    runtime: newRuntime,
    controller: (opts = {}) =>
      SessionController.start({
        store: sessions(),
        runtime: newRuntime(),
        clock,
        pools,
        executors: 2,
        graceMs: 2_000,
        ...opts,
      }),
    go: () => writeFile(goFile, 'go'),
    close: async () => {
      // A failed test leaves no process behind.
      const r = runtimes[0] ?? newRuntime();
      for (const n of await workloadNames(home)) await r.remove(n, { graceMs: 1_000 });
      for (const s of stores) await s.close().catch(() => {});
      await rm(home, { recursive: true, force: true });
    },
  };
}

const js = (code: string): string[] => [process.execPath, '-e', code];

/** Listens on FATHOM_PORT until stopped; with `exitOnConnect`, exits 0 at the first client. */
export function serverCommand(exitOnConnect = false): string[] {
  return js(`
    const srv = require("node:net").createServer((s) => { s.on("error", () => {}); s.end("ok\\n"); ${exitOnConnect ? 'process.exit(0);' : ''} });
    srv.listen(Number(process.env.FATHOM_PORT), "127.0.0.1", () => console.log("listening on " + process.env.FATHOM_PORT));`);
}

/**
 * A driver: checks QPS_WORKERS names `expect` addresses, servers then clients, and reaches each
 * one (retrying while they start); then waits for the file GO when set, then exits `exit`, or
 * never when `exit` is 'never'.
 */
export function driverCommand(expect: number, exit: number | 'never' = 0): string[] {
  return js(`
    const net = require("node:net"), fs = require("node:fs");
    const w = (process.env.QPS_WORKERS || "").split(",").filter(Boolean);
    const both = [process.env.FATHOM_SERVERS, process.env.FATHOM_CLIENTS].filter(Boolean).join(",");
    if (w.length !== ${expect} || process.env.QPS_WORKERS !== both) {
      console.error("bad QPS_WORKERS: " + process.env.QPS_WORKERS); process.exit(9);
    }
    const reach = (a, n) => new Promise((ok, no) => {
      const [h, p] = a.split(":"); const s = net.connect(Number(p), h);
      s.once("connect", () => { s.destroy(); ok(); });
      s.once("error", (e) => n > 0 ? setTimeout(() => reach(a, n - 1).then(ok, no), 25) : no(e));
    });
    const end = () => ${exit === 'never' ? 'setInterval(() => {}, 1000)' : `process.exit(${exit})`};
    Promise.all(w.map((a) => reach(a, 200))).then(() => {
      console.log("reached " + w.join(" "));
      if (!process.env.GO) return end();
      const t = setInterval(() => { if (fs.existsSync(process.env.GO)) { clearInterval(t); end(); } }, 20);
    }, (e) => { console.error(e.message); process.exit(8); });`);
}

export interface ComponentText {
  readonly name: string;
  readonly kind: string;
  readonly pool: string;
  readonly replicas?: number;
  readonly command: readonly string[];
  readonly port?: number;
  readonly env?: Record<string, string>;
}

/** A session through the real parser (JSON is YAML). */
export function sessionOf(
  name: string,
  components: readonly ComponentText[],
  spec: { timeout?: string; priority?: number; ttl?: string } = {},
): Session {
  const text = JSON.stringify({
    apiVersion: 'fathom.dev/v1alpha1',
    kind: 'Session',
    metadata: { name },
    spec: { components, ...spec },
  });
  return parseSessionText(text, `${name}.yaml`)[0]!;
}

/** 2 servers, 2 clients (serving too) and a driver that checks and reaches all four. */
export function loadTest(name: string, driver: Partial<ComponentText> = {}): Session {
  return sessionOf(name, [
    { name: 'd', kind: 'driver', pool: 'drv', command: driverCommand(4), ...driver },
    { name: 'c', kind: 'client', pool: 'cli', replicas: 2, command: serverCommand(), port: 1 },
    { name: 's', kind: 'server', pool: 'srv', replicas: 2, command: serverCommand(), port: 1 },
  ]);
}

export interface Suite {
  /** This test's home. */
  readonly h: () => Home;
  /** A controller over this test's home, abandoned after the test. */
  readonly controller: (executors?: number) => Promise<SessionController>;
  /** The kinds of a session's stored events, in order. */
  readonly kinds: (name: string) => Promise<string[]>;
  /** Nothing of any session runs, and no node is held by anyone. */
  readonly allClean: (c: SessionController) => Promise<void>;
}

/** A fresh home per test, every controller abandoned and every workload removed after it. */
export function sessionsSuite(): Suite {
  let h: Home | undefined;
  const controllers: SessionController[] = [];
  beforeEach(async () => {
    h = await newHome();
  });
  afterEach(async () => {
    for (const c of controllers.splice(0)) await c.abandon();
    await h?.close();
  });
  const home = (): Home => h!;
  return {
    h: home,
    controller: async (executors = 2) => {
      const c = await home().controller({ executors });
      controllers.push(c);
      return c;
    },
    kinds: async (name) => (await home().sessions().events(name)).map((e) => e.kind),
    allClean: async (c) => {
      expect(await workloadNames(home().home)).toEqual([]);
      expect(c.usage().every((p) => p.reserved === 0 && p.holders.length === 0)).toBe(true);
      expect([...(await home().sessions().holdings()).keys()]).toEqual([]);
    },
  };
}

export const final = (s: SessionState): boolean => isFinal(s);
