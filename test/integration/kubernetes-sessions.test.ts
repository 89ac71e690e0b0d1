/**
 * Sessions on the Kubernetes backend, end to end through the built CLI against the test control
 * plane, with the pod runner playing the kubelet on four nodes labelled as pools (servers ×2,
 * clients ×1, drivers ×1). The controller is `fathom session-controller --backend kubernetes`
 * in a process of its own, as its Deployment would run it:
 *
 * - a load test submitted with --wait succeeds (the driver dials every QPS_WORKERS address on
 *   the servers' and client's pod IPs), its events come in order, its pods are gone after and
 *   nothing is held; one needing 3 servers is refused at submit (exit 2, one line);
 * - the controller SIGKILLed while a session runs: its pods keep running, a new controller
 *   picks the session up and it succeeds;
 * - a running session cancelled ends Cancelled with its pods gone;
 * - a server whose command does not exist: Errored, ContainerError, before the driver is placed;
 * - a node taken out of its pool while a session runs on it: Errored, PodsMissing, released;
 * - a Session created as `kubectl apply` would runs (its Kubernetes Events on it); one the
 *   parser refuses ends Errored/InvalidSpec and the CLI names it;
 * - `fathom health --watch -f session.yaml` waits until the session is Current;
 * - the controller as the Deployment `gen sessions` prints (2 replicas, run by the pod runner
 *   with in-cluster credentials): the leader pod deleted mid-session, the other one finishes it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createKubeClient,
  resourcePath,
  type KubeClient,
} from '../../src/backends/kubernetes/api/client.js';
import { resolveKubeconfig } from '../../src/backends/kubernetes/api/kubeconfig.js';
import { startTestPodRunner, type TestPodRunner } from '../podrunner/fixture.js';
import { fathom, fathomBin, type CliResult } from '../support/cli.js';
import { parseAllDocuments } from 'yaml';
import type { KubeObject } from '../../src/backends/kubernetes/api/types.js';
import { applyObject } from '../../src/backends/kubernetes/apply.js';
import { kubeconfigVia, startApiProxy } from './api-proxy.js';
import { WAIT_FOR_FILE } from './kube-cli.js';
import { providedCluster } from './provided.js';

const { cluster, skipReason } = providedCluster();
const hex = randomBytes(3).toString('hex');
const ns = `sessions-${hex}`;
const pool = (p: string): string => `${p}-${hex}`;
const node = process.execPath;

interface SessionJson {
  metadata: { name: string };
  status?: { state: string; reason: string; message: string };
}
interface PoolJson {
  name: string;
  capacity: number;
  reserved: number;
  holders: { holder: string; nodes: string[] }[];
}

describe.skipIf(!cluster)(
  `sessions on the kubernetes backend${cluster ? '' : ` (skipped: ${skipReason})`}`,
  () => {
    let runner: TestPodRunner;
    let admin: KubeClient;
    let dir: string;
    let controller: ChildProcess | undefined;
    const flags = (): string[] => [
      '--backend',
      'kubernetes',
      '--kubeconfig',
      cluster!.kubeconfig,
      '-n',
      ns,
    ];
    const cli = (args: string[]): Promise<CliResult> => fathom([...args, ...flags()]);

    function startController(): ChildProcess {
      // Its JSON log beside the test's files, for a failure to be read (FATHOM_CLUSTER_KEEP keeps it).
      const log = openSync(join(dir, 'controller.log'), 'a');
      const p = spawn(node, [fathomBin, 'session-controller', ...flags(), '--executors', '2'], {
        stdio: ['ignore', log, log],
        env: { ...process.env, CI: 'true' },
      });
      closeSync(log);
      controller = p;
      return p;
    }
    async function stopController(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
      const p = controller;
      controller = undefined;
      if (!p || p.exitCode !== null) return;
      const exited = new Promise((r) => p.once('exit', r));
      p.kill(signal);
      await exited;
    }

    async function get(name: string): Promise<SessionJson> {
      const r = await cli(['session', 'get', name, '-o', 'json']);
      expect(r.code, r.stderr).toBe(0);
      return JSON.parse(r.stdout) as SessionJson;
    }
    async function pools(): Promise<PoolJson[]> {
      const r = await cli(['pools', '-o', 'json']);
      expect(r.code, r.stderr).toBe(0);
      return JSON.parse(r.stdout) as PoolJson[];
    }
    async function podsOf(session: string): Promise<string[]> {
      const list = await admin.list<{ metadata: { name: string } }>(
        resourcePath('', 'pods', ns),
        'listing pods',
      );
      return list.items.map((p) => p.metadata.name).filter((n) => n.startsWith(`${session}-`));
    }
    /** Polls `probe` until it answers true, failing after `ms`. */
    async function until(what: string, probe: () => Promise<boolean>, ms = 60_000): Promise<void> {
      const deadline = Date.now() + ms;
      while (!(await probe())) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
        await new Promise((r) => setTimeout(r, 250));
      }
    }
    /** What a CLI call said and the controller's last log lines, for a failed assertion. */
    async function trail(r: CliResult): Promise<string> {
      const log = await readFile(join(dir, 'controller.log'), 'utf8').catch(
        (err: Error) => `(${err.message})`,
      );
      return `${r.stdout}\n${r.stderr}\ncontroller.log:\n${log.trimEnd().split('\n').slice(-15).join('\n')}`;
    }
    const stateOf = async (name: string): Promise<string | undefined> =>
      (await get(name)).status?.state;

    /** Servers and the client listen on their pod IP; the driver waits for `gate`, then dials all. */
    async function sessionFile(name: string, o: { servers?: number; gate?: string } = {}) {
      const serve = join(dir, 'serve.js');
      await writeFile(
        serve,
        // A driver that exits at once resets its connections: that is no reason for a server to die.
        `require("node:net").createServer((s) => { s.on("error", () => {}); s.end("ok"); }).listen(Number(process.env.FATHOM_PORT), process.env.FATHOM_HOST);`,
      );
      const drive = join(dir, `drive-${name}.js`);
      await writeFile(
        drive,
        `${o.gate ? `${WAIT_FOR_FILE.replace('process.exit(0)', 'go()')}\n` : 'go();\n'}
function go() {
  const all = process.env.QPS_WORKERS.split(",");
  if (all.length !== ${(o.servers ?? 2) + 1}) { console.error("QPS_WORKERS=" + process.env.QPS_WORKERS); process.exit(3); }
  let left = all.length;
  // A server counts as started once its process runs, maybe before it listens: dial again
  // while it is refused, as a real driver would.
  const dial = (a, tries) => {
    const [host, port] = a.split(":");
    require("node:net").connect(Number(port), host, () => { if (--left === 0) { console.log("dialled " + all.join(" ")); process.exit(0); } })
      .on("error", (e) => {
        if (e.code === "ECONNREFUSED" && tries > 0) return setTimeout(() => dial(a, tries - 1), 100);
        console.error(a + ": " + e.message); process.exit(1);
      });
  };
  for (const a of all) dial(a, 300);
}`,
      );
      const doc = {
        apiVersion: 'fathom.dev/v1alpha1',
        kind: 'Session',
        metadata: { name },
        spec: {
          timeout: '2m',
          components: [
            {
              name: 'driver',
              kind: 'driver',
              pool: pool('drivers'),
              image: 'fathom.test/node',
              command: [node, drive, ...(o.gate ? [o.gate] : [])],
            },
            {
              name: 'server',
              kind: 'server',
              pool: pool('servers'),
              replicas: o.servers ?? 2,
              port: 7070,
              image: 'fathom.test/node',
              command: [node, serve],
            },
            {
              name: 'client',
              kind: 'client',
              pool: pool('clients'),
              port: 7071,
              image: 'fathom.test/node',
              command: [node, serve],
            },
          ],
        },
      };
      const file = join(dir, `${name}.yaml`);
      await writeFile(file, JSON.stringify(doc, null, 2));
      return file;
    }

    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), 'fathom-ksessions-'));
      admin = createKubeClient(resolveKubeconfig({ kubeconfig: cluster!.kubeconfig }));
      runner = await startTestPodRunner(cluster!.kubeconfig, { count: 4 });
      const labels = [pool('servers'), pool('servers'), pool('clients'), pool('drivers')];
      for (const [i, n] of runner.nodes.entries()) {
        await admin.mergePatch(
          resourcePath('', 'nodes', undefined, n),
          { metadata: { labels: { pool: labels[i] } } },
          `labelling node ${n}`,
        );
      }
      await admin.create(
        resourcePath('', 'namespaces'),
        { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } },
        `creating namespace ${ns}`,
      );
      startController();
    }, 120_000);

    afterAll(async () => {
      await stopController();
      await runner?.stop();
      if (admin) {
        await admin
          .remove(resourcePath('', 'namespaces', undefined, ns), `deleting ${ns}`)
          .catch(() => false);
        for (const kind of ['clusterroles', 'clusterrolebindings']) {
          await admin
            .remove(
              resourcePath(
                'rbac.authorization.k8s.io',
                kind,
                undefined,
                `fathom-session-controller-${ns}`,
              ),
              `deleting ${kind}`,
            )
            .catch(() => false);
        }
        admin.close();
      }
      if (dir && !process.env.FATHOM_CLUSTER_KEEP) await rm(dir, { recursive: true, force: true });
    }, 120_000);

    it('a load test with --wait succeeds: events in order, pods gone, nothing held', async () => {
      const file = await sessionFile('load');
      const r = await cli(['session', 'submit', '-f', file, '--wait']);
      expect(r.code, await trail(r)).toBe(0);
      expect(r.stdout).toMatch(/session load: Succeeded/);
      const events = await cli(['session', 'events', 'load', '-o', 'json']);
      const kinds = (JSON.parse(events.stdout) as { kind: string }[]).map((e) => e.kind);
      expect(kinds).toEqual(['queued', 'accepted', 'provisioning', 'running', 'done']);
      const logs = await cli(['session', 'logs', 'load', '-c', 'driver']);
      expect(logs.stdout).toMatch(
        /^dialled 127\.0\.\d+\.\d+:7070 127\.0\.\d+\.\d+:7070 127\.0\.\d+\.\d+:7071$/m,
      );
      expect(await podsOf('load')).toEqual([]);
      expect((await pools()).every((p) => p.reserved === 0)).toBe(true);
    }, 180_000);

    it('the API server gone for a while during --wait: one warning, and the wait still sees it succeed', async () => {
      const proxy = await startApiProxy(cluster!.server);
      const kubeconfig = join(dir, 'proxied.kubeconfig');
      await kubeconfigVia(cluster!.kubeconfig, proxy.server, kubeconfig);
      const gate = join(dir, 'gate-outage');
      const file = await sessionFile('outage', { gate });
      const waiting = spawn(
        node,
        [
          fathomBin,
          'session',
          'submit',
          '-f',
          file,
          '--wait',
          ...['--backend', 'kubernetes', '--kubeconfig', kubeconfig, '-n', ns],
        ],
        { env: { ...process.env, CI: 'true', NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] },
      );
      const said = { out: '', err: '' };
      waiting.stdout.on('data', (d: Buffer) => (said.out += d.toString()));
      const exited = new Promise<number | null>((r) => waiting.once('exit', (code) => r(code)));
      /** `p`, unless the wait ends first: then fail with what it said. */
      const beforeExit = <T>(p: Promise<T>): Promise<T> =>
        Promise.race([
          p,
          exited.then((code): never => {
            throw new Error(`the wait ended early (${code}):\n${said.out}\n${said.err}`);
          }),
        ]);
      const onStderr = (re: RegExp): Promise<void> =>
        new Promise((resolve) => {
          const check = (d?: Buffer): void => {
            if (d) said.err += d.toString();
            if (re.test(said.err)) {
              waiting.stderr.off('data', check);
              resolve();
            }
          };
          waiting.stderr.on('data', check);
          check();
        });
      try {
        await beforeExit(
          // Not found until the waiting command has submitted it.
          until('outage running', async () => {
            const r = await cli(['session', 'get', 'outage', '-o', 'json']);
            return (
              r.code === 0 && (JSON.parse(r.stdout) as SessionJson).status?.state === 'Running'
            );
          }),
        );
        await proxy.down();
        await beforeExit(onStderr(/^warning: .*cannot reach the API server.*; retrying$/m));
        await proxy.up();
        await writeFile(gate, '');
        const answered = onStderr(/^it answered again; going on$/m);
        const code = await exited;
        await answered;
        expect(code, `${said.out}\n${said.err}`).toBe(0);
        expect(said.out).toMatch(/session outage: Succeeded/);
        expect(said.err.match(/^warning:/gm)).toHaveLength(1);
      } finally {
        waiting.kill();
        await proxy.close();
      }
    }, 180_000);

    it('a session needing more servers than the pool has is refused at submit: exit 2, one line', async () => {
      const r = await cli(['session', 'submit', '-f', await sessionFile('toobig', { servers: 3 })]);
      expect(r.code).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toContain(pool('servers'));
      expect(r.stderr).toMatch(/3/);
    });

    it('the controller SIGKILLed mid-session: pods keep running, a new controller finishes it', async () => {
      const gate = join(dir, 'gate-kill');
      const r = await cli(['session', 'submit', '-f', await sessionFile('survivor', { gate })]);
      expect(r.code, r.stderr).toBe(0);
      await until('survivor running', async () => (await stateOf('survivor')) === 'Running');
      const before = await podsOf('survivor');
      expect(before).toHaveLength(4);
      await stopController('SIGKILL');
      await writeFile(gate, '');
      startController();
      await until(
        'survivor over',
        async () => (await stateOf('survivor')) === 'Succeeded',
        120_000,
      );
      await until('survivor pods gone', async () => (await podsOf('survivor')).length === 0);
      expect((await pools()).every((p) => p.reserved === 0)).toBe(true);
    }, 240_000);

    it('a running session cancelled ends Cancelled, its pods gone and its nodes free', async () => {
      const file = await sessionFile('stopped', { gate: join(dir, 'never') });
      expect((await cli(['session', 'submit', '-f', file])).code).toBe(0);
      await until('stopped running', async () => (await stateOf('stopped')) === 'Running');
      const r = await cli(['session', 'cancel', 'stopped']);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/session stopped cancelled/);
      expect((await get('stopped')).status).toMatchObject({
        state: 'Cancelled',
        reason: 'Cancelled',
      });
      expect(await podsOf('stopped')).toEqual([]);
      expect((await pools()).every((p) => p.reserved === 0)).toBe(true);
    }, 180_000);

    it('a server whose command does not exist: Errored ContainerError before the driver is placed', async () => {
      const file = await sessionFile('nocmd');
      const doc = JSON.parse(await readFile(file, 'utf8')) as {
        spec: { components: { name: string; command: string[] }[] };
      };
      doc.spec.components.find((c) => c.name === 'server')!.command = [join(dir, 'no-such-binary')];
      await writeFile(file, JSON.stringify(doc));
      const r = await cli(['session', 'submit', '-f', file, '--wait']);
      expect(r.code).toBe(1);
      expect((await get('nocmd')).status).toMatchObject({
        state: 'Errored',
        reason: 'ContainerError',
      });
      const events = JSON.parse(
        (await cli(['session', 'events', 'nocmd', '-o', 'json'])).stdout,
      ) as {
        kind: string;
      }[];
      expect(events.map((e) => e.kind)).not.toContain('running');
      expect(await podsOf('nocmd')).toEqual([]);
      expect((await pools()).every((p) => p.reserved === 0)).toBe(true);
    }, 180_000);

    it('a node taken out of its pool mid-session: Errored with PodsMissing, nothing held', async () => {
      const file = await sessionFile('orphan', { gate: join(dir, 'never') });
      expect((await cli(['session', 'submit', '-f', file])).code).toBe(0);
      await until('orphan running', async () => (await stateOf('orphan')) === 'Running');
      const clientNode = runner.nodes[2]!;
      await admin.mergePatch(
        resourcePath('', 'nodes', undefined, clientNode),
        { metadata: { labels: { pool: null } } },
        'unlabelling',
      );
      try {
        await until('orphan errored', async () => (await stateOf('orphan')) === 'Errored');
        expect((await get('orphan')).status?.reason).toBe('PodsMissing');
        await until('orphan pods gone', async () => (await podsOf('orphan')).length === 0);
        expect((await pools()).every((p) => p.reserved === 0)).toBe(true);
      } finally {
        await admin.mergePatch(
          resourcePath('', 'nodes', undefined, clientNode),
          { metadata: { labels: { pool: pool('clients') } } },
          'relabelling',
        );
      }
    }, 180_000);

    it('a Session applied as kubectl would runs; one naming no pool ends PoolError; one with two drivers ends Errored InvalidSpec, named by the CLI', async () => {
      const doc = JSON.parse(await readFile(await sessionFile('applied'), 'utf8')) as {
        spec: { components: { kind: string }[] };
      };
      // The CLI's first use installs the CRD (this test may run alone).
      expect((await cli(['session', 'list'])).code).toBe(0);
      const sessions = `/apis/fathom.dev/v1alpha1/namespaces/${ns}/sessions`;
      await admin.create(sessions, doc, 'applying a Session');
      await until('applied succeeded', async () => (await stateOf('applied')) === 'Succeeded');
      const events = await admin.list<{
        reason: string;
        type: string;
        involvedObject: { kind: string; name: string };
      }>(resourcePath('', 'events', ns), 'listing events', {
        fieldSelector: 'involvedObject.name=applied',
      });
      expect(events.items.every((e) => e.involvedObject.kind === 'Session')).toBe(true);
      expect(events.items.map((e) => e.reason)).toContain('DriverSucceeded');

      const twoDrivers = {
        ...doc,
        metadata: { name: 'twodrivers' },
        spec: {
          ...doc.spec,
          components: doc.spec.components.map((c) => ({
            ...c,
            kind: c.kind === 'server' ? 'driver' : c.kind,
          })),
        },
      };
      await admin.create(sessions, twoDrivers, 'applying a Session with two drivers');
      await until('twodrivers ended', async () => {
        const cr = await admin.get<{ status?: { state: string; reason: string } }>(
          `${sessions}/twodrivers`,
          'reading the Session',
        );
        return cr.status?.state === 'Errored' && cr.status.reason === 'InvalidSpec';
      });
      // One naming a pool no node is in is never queued: it ends at once, PoolError.
      const nowhere = {
        ...doc,
        metadata: { name: 'nowhere' },
        spec: {
          ...doc.spec,
          components: doc.spec.components.map((c) =>
            c.kind === 'client' ? { ...c, pool: 'no-such-pool' } : c,
          ),
        },
      };
      await admin.create(sessions, nowhere, 'applying a Session naming no pool');
      await until('nowhere refused', async () => (await stateOf('nowhere')) === 'Errored');
      expect((await get('nowhere')).status).toMatchObject({ reason: 'PoolError' });
      expect((await get('nowhere')).status?.message).toContain('no-such-pool');
      const got = await cli(['session', 'get', 'twodrivers']);
      expect(got.code).toBe(2);
      expect(got.stderr).toMatch(/twodrivers.*driver/);
      const list = await cli(['session', 'list']);
      expect(list.code).toBe(0);
      expect(list.stderr).toMatch(/^warning: session twodrivers: .*driver/m);
    }, 180_000);

    it('fathom health --watch waits on a session until it is Current', async () => {
      const gate = join(dir, 'gate-health');
      const file = await sessionFile('watched', { gate });
      expect((await cli(['session', 'submit', '-f', file])).code).toBe(0);
      const health = cli(['health', '--watch', '-f', file, '--timeout', '120s']);
      await until('watched running', async () => (await stateOf('watched')) === 'Running');
      const events = async (): Promise<string> =>
        (await cli(['session', 'events', 'watched'])).stdout;
      await writeFile(gate, '');
      const r = await health;
      expect(r.code, `${r.stdout}\n${r.stderr}\n${await events()}`).toBe(0);
      expect(r.stdout).toMatch(/Session.*watched.*Current/);
    }, 180_000);

    it('the controller as the Deployment gen sessions prints: its leader pod deleted mid-session, the other replica finishes it', async () => {
      await stopController();
      const gen = await fathom([
        'gen',
        'sessions',
        '-n',
        ns,
        '--replicas',
        '2',
        '--node-selector',
        'fathom.test/runner=true',
        '--image',
        'fathom.test/fathom:dev',
      ]);
      expect(gen.code, gen.stderr).toBe(0);
      for (const obj of parseAllDocuments(gen.stdout).map((d) => d.toJS() as KubeObject)) {
        await applyObject(admin, obj);
      }
      const leasePath = resourcePath(
        'coordination.k8s.io',
        'leases',
        ns,
        'fathom-session-controller',
      );
      const holder = async (): Promise<string> =>
        (await admin.find<{ spec?: { holderIdentity?: string } }>(leasePath, 'reading the lease'))
          ?.spec?.holderIdentity ?? '';
      const controllerPods = async (): Promise<string[]> =>
        (
          await admin.list<{ metadata: { name: string } }>(
            resourcePath('', 'pods', ns),
            'listing',
            {
              labelSelector: 'app.kubernetes.io/part-of=fathom-sessions',
            },
          )
        ).items.map((p) => p.metadata.name);
      await until(
        'a controller pod leads',
        async () => (await controllerPods()).includes(await holder()),
        120_000,
      );
      const gate = join(dir, 'gate-deploy');
      expect(
        (await cli(['session', 'submit', '-f', await sessionFile('deployed', { gate })])).code,
      ).toBe(0);
      await until(
        'deployed running',
        async () => (await stateOf('deployed')) === 'Running',
        120_000,
      );
      const leader = await holder();
      await admin.remove(resourcePath('', 'pods', ns, leader), `deleting the leader pod ${leader}`);
      await until(
        'another replica leads',
        async () => {
          const h = await holder();
          return h !== '' && h !== leader;
        },
        120_000,
      );
      await writeFile(gate, '');
      await until(
        'deployed succeeded',
        async () => (await stateOf('deployed')) === 'Succeeded',
        120_000,
      );
      await until('deployed pods gone', async () => (await podsOf('deployed')).length === 0);
      expect((await pools()).every((p) => p.reserved === 0)).toBe(true);
    }, 360_000);
  },
);
