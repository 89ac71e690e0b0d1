/**
 * Issue 11: sessions.
 * (a) Admission alone in a child process on a manual clock: 10,000 seeded sessions over 50 pools
 *     of 20 nodes, 100 executors, admitted until all have started; decisions per second, the
 *     worst case (a blocked head, nothing behind it fits), peak RSS and the queue's heap.
 * (b) Submit to running on the local backend with the built CLI: a cluster of 13 nodes and a
 *     session of 1 driver, 4 servers and 8 clients (node scripts), median of 3; the session
 *     controller's peak RSS; the floor is 13 bare `node -e ''` start-ups in the same run.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AdmitChildMessage } from '../children/sessions-admit.js';
import { KUBE_SESSION_NODES, kubeSessions, type KubeSessionFigures } from '../lib/kube-sessions.js';
import { FATHOM_BIN, forkChild, runTimed, stats, vmHwmKiB } from '../lib/measure.js';
import { bytes, count, mib, ms, type Bench, type BenchResult, type Table } from '../lib/report.js';

const SESSIONS = 10_000;
const POOLS = 50;
const PER_POOL = 20;
const EXECUTORS = 100;
const REPS = 3;
const node = process.execPath;

type AdmitDone = Extract<AdmitChildMessage, { type: 'done' }>;

async function admission(): Promise<AdmitDone> {
  const child = forkChild<AdmitChildMessage>(
    new URL('../children/sessions-admit.js', import.meta.url),
    [SESSIONS, POOLS, PER_POOL, EXECUTORS].map(String),
    ['--expose-gc'],
  );
  const done = await child.next<AdmitDone>('done');
  await child.exited();
  return done;
}

function admissionTable(d: AdmitDone): Table {
  const perSec = (n: number, millis: number): string =>
    `${count(Math.round(n / (millis / 1000)))}/s`;
  const worst = stats(d.worstMs);
  return {
    title: `Session admission: ${count(d.sessions)} queued sessions, ${POOLS} pools × ${PER_POOL} nodes, ${EXECUTORS} executors (manual clock)`,
    columns: ['figure', 'value'],
    rows: [
      ['admit calls until all started', count(d.admitCalls)],
      ['time in admit, all calls', ms(d.admitMs)],
      ['admit calls per second', perSec(d.admitCalls, d.admitMs)],
      ['sessions admitted per second', perSec(d.admitted, d.admitMs)],
      ['mean time per admit call', `${((d.admitMs / d.admitCalls) * 1000).toFixed(0)} µs`],
      ['whole simulation (admit + reserve/release + queue upkeep)', ms(d.simulationMs)],
      [
        `worst case: one decision walking all ${count(d.worstWalked)} (median of ${worst.n})`,
        ms(worst.median),
      ],
      ['worst case, decisions per second', perSec(1, worst.median)],
      [
        'queue + reservations heap (after GC, loaded)',
        d.queueHeapBytes !== undefined ? bytes(d.queueHeapBytes) : '–',
      ],
      ['child peak RSS', mib(d.maxRssKiB)],
    ],
    notes: [
      `Seeded sessions: priority 0–2, 1–3 pools, 1–8 nodes each, timeout 1–60 min; each runs to its deadline on a manual clock (${d.simulatedHours.toFixed(0)} simulated hours), as the queue property test simulates. Backfill on. Only \`admit\` is timed in the per-second figures.`,
      'Worst case: every node held by a running session, so the head waits and each of the other sessions is checked and skipped in one pass.',
      'Kueue admits one workload per ClusterQueue per scheduling cycle: that is its published design point, not a side-by-side measurement here.',
    ],
  };
}

const serverJs = `require("node:net").createServer((s) => s.end()).listen(Number(process.env.FATHOM_PORT), "127.0.0.1");`;
// Waits until every QPS_WORKERS address accepts a connection, then exits 0.
const driverJs = `const net = require("node:net");
const addrs = process.env.QPS_WORKERS.split(",");
const once = (a) => new Promise((ok) => { const [h, p] = a.split(":"); const s = net.connect(Number(p), h);
  s.once("connect", () => { s.destroy(); ok(true); }); s.once("error", () => ok(false)); });
(async () => { for (const a of addrs) { while (!(await once(a))) await new Promise((r) => setTimeout(r, 10)); } process.exit(0); })();`;

interface SubmitRun {
  wallMs: number;
  acceptedToRunningMs: number;
}

interface LocalFigures {
  runs: SubmitRun[];
  controllerHwmKiB?: number;
  nodeStartMs: number[];
  parallelStartMs: number;
}

async function fathom(home: string, args: string[]): Promise<string> {
  const r = await runTimed(node, [FATHOM_BIN, ...args], {
    env: { ...process.env, FATHOM_HOME: home },
    captureStdout: true,
    timeoutMs: 120_000,
  });
  if (r.code !== 0) throw new Error(`fathom ${args.join(' ')}: exit ${r.code}: ${r.stderr}`);
  return r.stdout;
}

async function localSessions(log: (line: string) => void): Promise<LocalFigures> {
  const home = await mkdtemp(join(tmpdir(), 'fathom-bench-sessions-'));
  const pidFile = join(home, 'sessions', 'controller.pid');
  try {
    const nodes = [
      ['d1', 'drivers'],
      ...[1, 2, 3, 4].map((i) => [`s${i}`, 'servers']),
      ...[1, 2, 3, 4, 5, 6, 7, 8].map((i) => [`c${i}`, 'clients']),
    ];
    const cluster = join(home, 'cluster.yaml');
    await writeFile(
      cluster,
      'apiVersion: fathom.dev/v1alpha1\nkind: Cluster\nnodes:\n' +
        nodes.map(([n, p]) => `  - {name: ${n}, labels: {pool: ${p}}}\n`).join(''),
    );
    await fathom(home, ['cluster', 'create', '--config', cluster]);
    await writeFile(join(home, 'server.js'), serverJs);
    await writeFile(join(home, 'driver.js'), driverJs);
    const serve = [node, join(home, 'server.js')];
    const runs: SubmitRun[] = [];
    for (let i = 0; i < REPS; i++) {
      const name = `lt-${i}`;
      const file = join(home, `${name}.yaml`);
      const doc = {
        apiVersion: 'fathom.dev/v1alpha1',
        kind: 'Session',
        metadata: { name },
        spec: {
          timeout: '120s',
          components: [
            {
              name: 'driver',
              kind: 'driver',
              pool: 'drivers',
              command: [node, join(home, 'driver.js')],
            },
            {
              name: 'server',
              kind: 'server',
              pool: 'servers',
              replicas: 4,
              port: 1,
              command: serve,
            },
            {
              name: 'client',
              kind: 'client',
              pool: 'clients',
              replicas: 8,
              port: 1,
              command: serve,
            },
          ],
        },
      };
      await writeFile(file, JSON.stringify(doc, null, 2));
      const r = await runTimed(node, [FATHOM_BIN, 'session', 'submit', '-f', file, '--wait'], {
        env: { ...process.env, FATHOM_HOME: home },
        timeoutMs: 180_000,
      });
      if (r.code !== 0) throw new Error(`session ${name} exit ${r.code}: ${r.stderr}`);
      const events = JSON.parse(await fathom(home, ['session', 'events', name, '-o', 'json'])) as {
        kind: string;
        time: number | string;
      }[];
      const at = (kind: string): number => {
        const t = events.find((e) => e.kind === kind)?.time;
        if (t === undefined) throw new Error(`session ${name}: no ${kind} event`);
        return typeof t === 'number' ? t : Date.parse(t);
      };
      runs.push({ wallMs: r.wallMs, acceptedToRunningMs: at('running') - at('accepted') });
      log(
        `session ${name}: ${ms(r.wallMs)} submit→exit, ${ms(runs.at(-1)!.acceptedToRunningMs)} accepted→running`,
      );
    }
    const pid = Number(await readFile(pidFile, 'utf8').catch(() => 'NaN'));
    const controllerHwmKiB = Number.isFinite(pid) ? vmHwmKiB(pid) : undefined;

    // The floor: the components' own process start-ups.
    const nodeStartMs: number[] = [];
    for (let i = 0; i < 13; i++) nodeStartMs.push((await runTimed(node, ['-e', ''])).wallMs);
    const t = performance.now();
    await Promise.all(Array.from({ length: 13 }, () => runTimed(node, ['-e', ''])));
    const parallelStartMs = performance.now() - t;
    return {
      runs,
      ...(controllerHwmKiB !== undefined ? { controllerHwmKiB } : {}),
      nodeStartMs,
      parallelStartMs,
    };
  } finally {
    const pid = Number(await readFile(pidFile, 'utf8').catch(() => 'NaN'));
    await runTimed(node, [FATHOM_BIN, 'cluster', 'delete', '--force'], {
      env: { ...process.env, FATHOM_HOME: home },
      timeoutMs: 60_000,
    }).catch(() => undefined);
    if (Number.isFinite(pid) && pid > 0) {
      try {
        process.kill(pid, 'SIGTERM');
      } catch {
        // already gone
      }
      for (let i = 0; i < 100 && vmHwmKiB(pid) !== undefined; i++) {
        await new Promise((r) => setTimeout(r, 50)); // bounded wait for its exit before rm
      }
    }
    await rm(home, { recursive: true, force: true });
  }
}

function localTable(f: LocalFigures, k: KubeSessionFigures | Error): Table {
  const wall = stats(f.runs.map((r) => r.wallMs));
  const a2r = stats(f.runs.map((r) => r.acceptedToRunningMs));
  const one = stats(f.nodeStartMs);
  const range = (s: ReturnType<typeof stats>): string => `${ms(s.min)}–${ms(s.max)}`;
  return {
    title: 'Session submit to running: 1 driver + 4 servers + 8 clients',
    columns: ['backend', 'figure', `median of ${REPS}`, 'range'],
    rows: [
      [
        'local (13 nodes)',
        '`session submit --wait` spawn → exit 0 (whole session)',
        ms(wall.median),
        range(wall),
      ],
      [
        'local (13 nodes)',
        'events: accepted → running (all 13 components up)',
        ms(a2r.median),
        range(a2r),
      ],
      [
        'local (13 nodes)',
        'session controller peak RSS (VmHWM)',
        f.controllerHwmKiB !== undefined ? mib(f.controllerHwmKiB) : '–',
        '',
      ],
      ['floor', "13 × `node -e ''` one after another", ms(13 * one.median), `one: ${range(one)}`],
      ['floor', "13 × `node -e ''` at once", ms(f.parallelStartMs), ''],
      ...kubeRows(k),
    ],
    notes: [
      'Servers and clients are node scripts listening on FATHOM_PORT; the driver exits 0 once it can connect to every QPS_WORKERS address. The whole-session time includes the CLI start, queueing, provisioning servers, then clients, then the driver, the driver run and the end.',
      "`running` is when every component process has been spawned and is alive (the local backend's health rules), not when each has finished loading, so it can be below the floor of 13 full `node` start-ups; the whole-session time includes them.",
      "The controller's VmHWM is read from /proc before the cluster is deleted; it is the peak over all three sessions.",
      `Kubernetes: the test control plane with ${KUBE_SESSION_NODES} kwok nodes (13 of them in the three pools), \`fathom session-controller --backend kubernetes\` as a process beside it, \`session submit\` without --wait; *submit → running* is from spawning the CLI to the controller's \`running\` event (all 13 pods Running: kwok marks them so once bound, no container starts), read back from the events. The session is then cancelled.`,
    ],
  };
}

function kubeRows(k: KubeSessionFigures | Error): string[][] {
  const where = `Kubernetes (${KUBE_SESSION_NODES} kwok nodes)`;
  if (k instanceof Error) return [[where, `not measured: ${k.message.split('\n')[0]}`, '–', '']];
  const s2r = stats(k.runs.map((r) => r.submitToRunningMs));
  const a2r = stats(k.runs.map((r) => r.acceptedToRunningMs));
  const range = (s: ReturnType<typeof stats>): string => `${ms(s.min)}–${ms(s.max)}`;
  return [
    [where, '`session submit` spawn → running event', ms(s2r.median), range(s2r)],
    [where, 'events: accepted → running (13 pods Running)', ms(a2r.median), range(a2r)],
    [
      where,
      'session controller peak RSS (VmHWM)',
      k.controllerHwmKiB !== undefined ? mib(k.controllerHwmKiB) : '–',
      '',
    ],
  ];
}

export const sessionsBench: Bench = {
  name: 'sessions',
  description:
    'session admission on manual time; submit → running on the local backend and on 50 kwok nodes',
  async run(log): Promise<BenchResult> {
    const a = await admission();
    log(`admission: ${count(a.admitCalls)} admit calls in ${ms(a.admitMs)}`);
    const local = await localSessions(log);
    const kube = await kubeSessions(REPS, log).catch((err: unknown) => err as Error);
    if (kube instanceof Error) log(`kubernetes sessions not measured: ${kube.message}`);
    return {
      data: { admission: a, local, kube: kube instanceof Error ? kube.message : kube },
      tables: [admissionTable(a), localTable(local, kube)],
    };
  },
};
