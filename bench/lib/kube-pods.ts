/**
 * The bench plays the kubelet, which kwok does not: it starts the aggregator pod's process
 * (`fathom aggregator`, the pod's own command) with the pod's environment, its ConfigMaps as
 * files and its service account's token, as test/integration/kubernetes-aggregator.test.ts does;
 * and it uploads every DaemonSet pod's result as that pod's worker would, over mutual TLS with
 * the address, CA and client certificate the aggregator gave the pods.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { mkdir, open, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { create as tarCreate } from 'tar';
import { systemClock } from '../../src/core/clock.js';
import { silentLogger } from '../../src/worker/logger.js';
import { createMtlsClient } from '../../src/core/mtls-client.js';
import { DEFAULT_RETRY, putWithRetry } from '../../src/worker/upload.js';
import type { KubeHttp, KubeObject } from '../../test/cluster/kube.js';
import { hostAddress as anyHostAddress } from '../../test/support/net.js';
import { serviceAccountKubeconfig } from './kube-requests.js';
import { FATHOM_BIN, quantile, REPO_ROOT } from './measure.js';

/** This machine's first non-loopback IPv4: the API server's pod proxy refuses loopback. */
export function hostAddress(): string {
  const ip = anyHostAddress();
  if (!ip)
    throw new Error('this machine has no non-loopback IPv4 address for the pod proxy to reach');
  return ip;
}

export interface AggregatorProcess {
  readonly pid: number;
  readonly log: string;
  /** Peak RSS so far (VmHWM), KiB. */
  hwmKiB(): number | undefined;
  /** User + system CPU time so far, ms. */
  cpuMs(): Promise<number | undefined>;
  /** SIGTERM (what the kubelet sends), then the exit code. */
  stop(): Promise<number | null>;
  /** SIGKILL if still alive (teardown after a failure). */
  kill(): void;
}

function secretValue(secret: { data?: Record<string, string> }, key: string): string {
  const v = secret.data?.[key];
  if (v === undefined) throw new Error(`secret has no ${key}`);
  return Buffer.from(v, 'base64').toString('utf8');
}

/**
 * Starts `fathom aggregator` for the aggregator pod in `namespace`, after pointing the pod's
 * IP at this machine (where the process listens) so the API server's pod proxy finds it.
 */
export async function startAggregatorPod(options: {
  api: KubeHttp;
  server: string;
  caPem: string;
  namespace: string;
  dir: string;
  ip: string;
}): Promise<AggregatorProcess> {
  const { api, namespace: ns, dir, ip } = options;
  const etc = join(dir, 'etc');
  for (const [cm, sub] of [
    ['fathom-config', 'config'],
    ['fathom-plugins', 'plugins'],
  ] as const) {
    await mkdir(join(etc, sub), { recursive: true });
    const { data } = await api.get<{ data: Record<string, string> }>(
      `/api/v1/namespaces/${ns}/configmaps/${cm}`,
    );
    for (const [file, text] of Object.entries(data)) await writeFile(join(etc, sub, file), text);
  }
  const podPath = `/api/v1/namespaces/${ns}/pods/fathom-aggregator`;
  const pod = await api.get<KubeObject & { metadata: { uid: string } }>(podPath);
  const patched = await api.request(
    'PATCH',
    `${podPath}/status`,
    { status: { podIP: ip, podIPs: [{ ip }] } },
    'application/merge-patch+json',
  );
  if (patched.status !== 200)
    throw new Error(
      `pointing the aggregator pod at ${ip}: HTTP ${patched.status}: ${patched.text}`,
    );
  const retrieve = await api.get<{ data: Record<string, string> }>(
    `/api/v1/namespaces/${ns}/secrets/fathom-retrieve`,
  );
  const kubeconfig = await serviceAccountKubeconfig(api, {
    namespace: ns,
    sa: 'fathom-aggregator',
    server: options.server,
    caPem: options.caPem,
    file: join(dir, 'aggregator.kubeconfig'),
  });
  const log = join(dir, 'aggregator.log');
  const out = await open(log, 'w');
  const child = spawn(process.execPath, [FATHOM_BIN, 'aggregator'], {
    cwd: REPO_ROOT,
    // Only what the pod's container would have: nothing of the bench's own environment.
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: dir,
      KUBECONFIG: kubeconfig,
      POD_NAME: 'fathom-aggregator',
      POD_NAMESPACE: ns,
      POD_UID: pod.metadata.uid,
      POD_IP: ip,
      FATHOM_RETRIEVE_TOKEN: secretValue(retrieve, 'token'),
      FATHOM_CONFIG_DIR: join(etc, 'config'),
      FATHOM_PLUGINS_DIR: join(etc, 'plugins'),
      FATHOM_OUTPUT_DIR: join(dir, 'out'),
    },
    stdio: ['ignore', out.fd, out.fd],
  });
  await out.close();
  const pid = child.pid;
  if (pid === undefined) throw new Error('could not start fathom aggregator');
  const exited = once(child, 'exit').then(([code]) => code as number | null);
  const status = (): string | undefined => {
    try {
      // Sync on purpose: read at exact points of the bench, in the same tick.
      return readFileSync(`/proc/${pid}/status`, 'utf8');
    } catch {
      return undefined;
    }
  };
  return {
    pid,
    log,
    hwmKiB: () => {
      const m = /^VmHWM:\s+(\d+) kB/m.exec(status() ?? '');
      return m ? Number(m[1]) : undefined;
    },
    cpuMs: async () => {
      const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined);
      // After the ")" of the command name comes field 3; utime and stime are fields 14 and 15.
      const f = stat?.slice(stat.lastIndexOf(')') + 2).split(' ');
      return f ? ((Number(f[11]) + Number(f[12])) * 1000) / 100 : undefined; // USER_HZ = 100
    },
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      return exited;
    },
    kill: () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    },
  };
}

const TESTS_PER_NODE = 20;

/**
 * A worker's result for one node, as a DaemonSet plugin's done file names it: a tar.gz of a
 * JUnit file (20 tests, 2 skipped) and a log of 60 lines, about 3 KiB.
 */
export async function resultTarball(scratch: string, node: string): Promise<Buffer> {
  const cases = Array.from({ length: TESTS_PER_NODE }, (_, i) => {
    const open = `  <testcase name="[sig-node] check ${i} on ${node} should hold" classname="node-checks" time="0.0${i % 10}">`;
    return i % 10 === 3
      ? `${open}<skipped message="not applicable on this node"/></testcase>`
      : `${open}</testcase>`;
  });
  const junit = `<?xml version="1.0" encoding="UTF-8"?>\n<testsuite name="node-checks" tests="${TESTS_PER_NODE}" skipped="2">\n${cases.join('\n')}\n</testsuite>\n`;
  // Digests do not compress, so the tarball is a few KiB as real results are.
  const lines = Array.from(
    { length: 60 },
    (_, i) =>
      `I1125 03:${String(10 + (i % 50)).padStart(2, '0')}:00.${String(i * 7919).padStart(6, '0')} check.go:${100 + i}] ${node}: check ${i % TESTS_PER_NODE} took ${(i * 37) % 997} ms, state ${createHash('sha256').update(`${node}/${i}`).digest('hex')}\n`,
  ).join('');
  await writeFile(join(scratch, 'junit_01.xml'), junit);
  await writeFile(join(scratch, 'checks.log'), lines);
  const chunks: Buffer[] = [];
  const pack = tarCreate({ gzip: true, cwd: scratch, portable: true }, [
    'junit_01.xml',
    'checks.log',
  ]);
  for await (const c of pack as AsyncIterable<Buffer>) chunks.push(c);
  return Buffer.concat(chunks);
}

export interface UploadSummary {
  wallMs: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** Uploads that needed more than one attempt (connection refused/reset, 5xx). */
  retried: number;
  attempts: number;
  bytes: number;
}

interface WorkerEnv {
  name: string;
  value?: string;
}

/**
 * Uploads every node's result at once, each as its worker would: the worker's own client
 * (`createMtlsClient` + `putWithRetry` with the worker's retry policy), a new TLS connection per
 * upload, the aggregator's URL and CA from the DaemonSet's worker env, the client certificate
 * from the plugin's Secret.
 */
export async function uploadAll(
  api: KubeHttp,
  options: { namespace: string; plugin: string; results: ReadonlyMap<string, Buffer> },
): Promise<UploadSummary> {
  const { namespace: ns, plugin } = options;
  type DaemonSet = KubeObject & {
    spec: {
      template: { spec: { containers: { name: string; env?: WorkerEnv[] }[] } };
    };
  };
  const sets = await api.get<{ items: DaemonSet[] }>(
    `/apis/apps/v1/namespaces/${ns}/daemonsets?labelSelector=fathom-plugin%3D${plugin}`,
  );
  const set = sets.items[0];
  if (!set) throw new Error(`no DaemonSet of plugin ${plugin} in ${ns}`);
  const worker = set.spec.template.spec.containers.find((c) => c.name === 'sonobuoy-worker');
  const env = new Map((worker?.env ?? []).map((e) => [e.name, e.value]));
  const url = env.get('AGGREGATOR_URL');
  if (!url) throw new Error(`DaemonSet ${set.metadata.name}: no AGGREGATOR_URL`);
  const session = set.metadata.name.split('-').at(-1)!;
  const secret = await api.get<{ data: Record<string, string> }>(
    `/api/v1/namespaces/${ns}/secrets/fathom-plugin-${plugin}-${session}`,
  );
  // The worker's TLS directory: CA and client pair, all in the plugin's Secret.
  const client = createMtlsClient(url, {
    caPem: secretValue(secret, 'ca.crt'),
    certPem: secretValue(secret, 'tls.crt'),
    keyPem: secretValue(secret, 'tls.key'),
  });
  const latencies: number[] = [];
  let attempts = 0;
  let retried = 0;
  let bytes = 0;
  const started = performance.now();
  await Promise.all(
    [...options.results].map(async ([node, body]) => {
      const t = performance.now();
      const r = await putWithRetry(
        client,
        `/api/v1/results/by-node/${node}/${plugin}`,
        {
          open: () => body,
          size: body.length,
          contentType: 'application/gzip',
          disposition: 'attachment;filename=results.tar.gz',
        },
        { clock: systemClock, logger: silentLogger },
        DEFAULT_RETRY,
      );
      if (r.status !== 'accepted') throw new Error(`upload for ${node}: ${r.status}`);
      latencies.push(performance.now() - t);
      attempts += r.attempts;
      if (r.attempts > 1) retried++;
      bytes += body.length;
    }),
  );
  return {
    wallMs: performance.now() - started,
    p50Ms: quantile(latencies, 0.5),
    p99Ms: quantile(latencies, 0.99),
    maxMs: quantile(latencies, 1),
    retried,
    attempts,
    bytes,
  };
}
