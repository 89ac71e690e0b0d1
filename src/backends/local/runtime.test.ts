import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { systemClock } from '../../core/clock.js';
import type { ClusterNode } from '../../core/nodes.js';
import { createRunCa } from '../../core/pki.js';
import { readTlsDir } from '../../core/tls-files.js';
import { parsePluginDocuments } from '../../plugin/loader.js';
import { NodeHostClient } from './nodehost/client.js';
import { NodeHost } from './nodehost/host.js';
import { LocalPluginRuntime } from './runtime.js';
import { available } from '../../../test/support/required.js';

const PLUGIN = `
sonobuoy-config:
  driver: Job
  plugin-name: keys
  result-format: raw
spec:
  name: plugin
  image: none
  command: ["sleep", "60"]
`;

/** A process's environment as the kernel shows it to any process of the same user. */
async function environOf(pid: string): Promise<Record<string, string>> {
  const raw = await readFile(`/proc/${pid}/environ`, 'utf8');
  return Object.fromEntries(
    raw
      .split('\0')
      .filter(Boolean)
      .map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]),
  );
}

const within = (dir: string, path: string): boolean => !relative(dir, path).startsWith('..');

let runDir: string;
beforeEach(async () => {
  runDir = await mkdtemp(join(tmpdir(), 'fathom-local-keys-'));
});
afterEach(async () => {
  await rm(runDir, { recursive: true, force: true });
});

/** A runtime over `runDir` whose node host runs in this process (real sockets, real workers). */
function hostedRuntime(nodes: readonly ClusterNode[]): {
  host: NodeHost;
  runtime: LocalPluginRuntime;
} {
  const host = new NodeHost(systemClock);
  const socketPath = join(runDir, 'host.sock');
  const runtime = new LocalPluginRuntime({
    runDir,
    nodes,
    host: new NodeHostClient({
      socketPath,
      clock: systemClock,
      start: async () => {
        await host.listen(socketPath);
        return { pid: process.pid };
      },
    }),
    clock: systemClock,
    logger: pino({ level: 'silent' }),
    terminatedGraceMs: 0,
    workerPollInterval: '1s',
  });
  return { host, runtime };
}

describe('local runtime: worker keys', () => {
  it.skipIf(!available(existsSync('/proc/self/environ'), 'no /proc/self/environ (not Linux)'))(
    'gives the worker its key as a 0600 file the plugin is not told about, never in env',
    async () => {
      const plugin = parsePluginDocuments(PLUGIN, '<test>').plugins[0]!;
      // The real node host, in this process: the worker is an instance in it, not a process.
      const { host, runtime } = hostedRuntime([{ name: 'node-1', labels: {} }]);
      const ca = await createRunCa({ now: Date.now() });
      const clientCert = await ca.clientCert('keys');
      try {
        await runtime.launch(plugin, {
          runId: 'r1',
          aggregatorUrl: 'https://127.0.0.1:1',
          caPem: ca.caPem,
          clientCert,
          nodes: [{ name: 'node-1', labels: {} }],
        });
        const pids = await readdir(join(runDir, 'pids'));
        expect(pids).toHaveLength(1); // the plugin; its worker runs in the host
        const owner = (await readFile(join(runDir, 'pids', pids[0]!), 'utf8')).trim();
        expect(owner).toBe('fathom-keys-job/plugin');
        const pluginEnv = await environOf(pids[0]!);
        for (const value of Object.values(pluginEnv)) expect(value).not.toMatch(/PRIVATE KEY/);
        expect(Object.keys(pluginEnv)).not.toContain('CLIENT_KEY');
        // The plugin is told the port its worker's progress relay listens on (which answers
        // 500 here: there is no aggregator to forward to).
        const relay = await fetch(`http://127.0.0.1:${pluginEnv.SONOBUOY_PROGRESS_PORT}/progress`, {
          method: 'POST',
          body: '{}',
        });
        expect(relay.status).toBe(500);
        // Its log is the pod's worker log, as the container's was.
        expect(
          await readFile(join(runDir, 'pods/keys/global/sonobuoy-worker.log'), 'utf8'),
        ).toMatch(/waiting for the done file/);
        const tlsDir = join(runDir, 'tls', 'keys');
        expect(await readTlsDir(tlsDir)).toEqual({ caPem: ca.caPem, ...clientCert });
        expect((await stat(join(tlsDir, 'tls.key'))).mode & 0o777).toBe(0o600);
        expect((await stat(tlsDir)).mode & 0o777).toBe(0o700);
        // The plugin's env names no path at or inside the keys' directory...
        expect(Object.keys(pluginEnv)).not.toContain('FATHOM_TLS_DIR');
        for (const value of Object.values(pluginEnv)) {
          expect(value).not.toContain(join(runDir, 'tls'));
          for (const part of value.split(':')) {
            if (part.startsWith('/')) expect(within(tlsDir, part)).toBe(false);
          }
        }
        // ...and none of the pod's directories it is given holds the key. (HOME is the user's
        // own and may well hold the run directory: same-user isolation is not on offer.)
        for (const name of ['RESULTS_DIR', 'SONOBUOY_CONFIG_DIR', 'TMPDIR']) {
          expect(within(pluginEnv[name]!, tlsDir)).toBe(false);
        }

        // A renewal rewrites the files in place; the worker reads them on its next attempt.
        const renewed = await ca.renewed({ now: Date.now(), validForMs: 3_600_000 });
        const next = await renewed.clientCert('keys');
        await runtime.renewCredentials(plugin, { caPem: renewed.caPem, clientCert: next });
        expect(await readTlsDir(tlsDir)).toEqual({ caPem: renewed.caPem, ...next });
        expect((await stat(join(tlsDir, 'tls.key'))).mode & 0o777).toBe(0o600);

        await runtime.cleanup(plugin);
        expect(existsSync(tlsDir)).toBe(false);
      } finally {
        await runtime.cleanup(plugin);
        await runtime.close();
      }
      await host.closed;
    },
  );
});

describe('local runtime: placement on the cluster nodes', () => {
  it('puts no DaemonSet pod on a node whose taint it does not tolerate, and says so for that node', async () => {
    const [ds, job] = parsePluginDocuments(
      `sonobuoy-config: {driver: DaemonSet, plugin-name: picky}
spec: {name: plugin, image: none, command: ["sleep", "60"]}
podSpec: {tolerations: [{key: ok, operator: Exists}]}
---
sonobuoy-config: {driver: Job, plugin-name: nowhere}
spec: {name: plugin, image: none, command: ["sleep", "60"]}
podSpec: {nodeSelector: {pool: gpu}}
`,
      '<test>',
    ).plugins;
    const nodes = [
      { name: 'plain', labels: { pool: 'cpu' } },
      {
        name: 'tolerated',
        labels: { pool: 'cpu' },
        taints: [{ key: 'ok', effect: 'NoSchedule' as const }],
      },
      {
        name: 'gpu',
        labels: { pool: 'gpu' },
        taints: [{ key: 'gpu', value: 'true', effect: 'NoExecute' as const }],
      },
    ];
    const { host, runtime } = hostedRuntime(nodes);
    const ca = await createRunCa({ now: Date.now() });
    const context = async (name: string) => ({
      runId: 'r1',
      aggregatorUrl: 'https://127.0.0.1:1',
      caPem: ca.caPem,
      clientCert: await ca.clientCert(name),
      nodes,
    });
    const firstProblem = async (plugin: typeof ds) => {
      const stop = new AbortController();
      for await (const problem of runtime.monitor(plugin!, [], stop.signal)) {
        stop.abort();
        return problem;
      }
      return undefined;
    };
    try {
      await runtime.launch(ds!, await context('picky'));
      await runtime.launch(job!, await context('nowhere'));
      expect((await readdir(join(runDir, 'pods', 'picky'))).sort()).toEqual(['plain', 'tolerated']);
      expect(await firstProblem(ds)).toEqual({
        node: 'gpu',
        error:
          'No pod was scheduled on node gpu: its taint gpu=true:NoExecute is not tolerated. Check tolerations for plugin picky',
      });
      expect(existsSync(join(runDir, 'pods', 'nowhere'))).toBe(false);
      expect(await firstProblem(job)).toEqual({
        node: 'global',
        error:
          "Can't schedule pod: 0/3 nodes are available: 1 node(s) had untolerated taint {gpu: true}, 2 node(s) didn't match Pod's node affinity/selector.",
      });
    } finally {
      await runtime.cleanup(ds!);
      await runtime.cleanup(job!);
      await runtime.close();
      await host.close();
    }
  });
});
