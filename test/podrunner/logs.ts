/**
 * The kubelet's `/containerLogs/{namespace}/{pod}/{container}` endpoint, so that the real
 * `pods/log` API (kubectl logs, fathom logs) reads the runner's container logs: the API
 * server proxies to `https://<node InternalIP>:<daemonEndpoints port>`. The test cluster's
 * API server has no kubelet CA or client certificate configured, so the endpoint uses a
 * throwaway certificate and asks for no credentials; it listens on the node IPs (loopback) only.
 * Supported: `follow`, `tailLines`, `limitBytes`. Not: `previous` (all runs share one file),
 * `timestamps`, `sinceSeconds`/`sinceTime` (lines carry no times).
 *
 * It also answers the kubelet's `/healthz` (`ok`) and `/configz` (a small KubeletConfiguration),
 * which the API server's node proxy reaches for the cluster snapshot's `hosts/<node>/`.
 */
import { watch } from 'node:fs';
import { open, readFile } from 'node:fs/promises';
import { createServer } from 'node:https';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRunCa } from '../../src/core/pki.js';

/** A container's log as the runner knows it. */
export interface LogTarget {
  readonly path: string;
  /** Whether more output may come. */
  running(): boolean;
  /** Called whenever the container's state changes; returns the unsubscribe. */
  onChange(listener: () => void): () => void;
}

export type FindLog = (namespace: string, pod: string, container: string) => LogTarget | undefined;

export interface LogOptions {
  readonly tailLines?: number;
  readonly limitBytes?: number;
}

/** The last `tailLines` lines of `text`, then at most `limitBytes` bytes of that. */
export function selectLog(text: Buffer, options: LogOptions): Buffer {
  let out = text;
  if (options.tailLines !== undefined) {
    let end = out.length;
    if (end > 0 && out[end - 1] === 0x0a) end--; // a final newline ends the last line
    let start = end;
    for (let lines = 0; start > 0; start--) {
      if (out[start - 1] === 0x0a && ++lines === options.tailLines) break;
    }
    out = options.tailLines <= 0 ? Buffer.alloc(0) : out.subarray(start);
  }
  return options.limitBytes !== undefined ? out.subarray(0, Math.max(0, options.limitBytes)) : out;
}

function wholeNumber(value: string | null): number | undefined {
  return value !== null && /^\d+$/.test(value) ? Number(value) : undefined;
}

async function follow(
  res: ServerResponse,
  target: LogTarget,
  from: number,
  budget: number,
): Promise<void> {
  let offset = from;
  let left = budget;
  let reading = false;
  let again = false;
  let done = false;
  const kick = (): void => void pump().catch(() => finish());
  const watcher = watch(target.path, kick);
  const unsubscribe = target.onChange(kick);
  const finish = (): void => {
    if (done) return;
    done = true;
    watcher.close();
    unsubscribe();
    res.end();
  };
  res.on('close', finish);
  async function pump(): Promise<void> {
    if (reading) {
      again = true;
      return;
    }
    reading = true;
    try {
      do {
        again = false;
        const stillRunning = target.running(); // read before the file: output written before exit is not lost
        const file = await open(target.path, 'r');
        try {
          const { size } = await file.stat();
          if (size > offset && left > 0) {
            const chunk = Buffer.alloc(Math.min(size - offset, left));
            const { bytesRead } = await file.read(chunk, 0, chunk.length, offset);
            offset += bytesRead;
            left -= bytesRead;
            if (!done) res.write(chunk.subarray(0, bytesRead));
          }
        } finally {
          await file.close();
        }
        if (!stillRunning || left <= 0) return finish();
      } while (again && !done);
    } finally {
      reading = false;
    }
  }
  await pump().catch(() => finish());
}

/** What a kubelet's /configz says, cut down to a plausible few fields. */
export function kubeletConfigz(port: number): object {
  return {
    kubeletconfig: {
      kind: 'KubeletConfiguration',
      apiVersion: 'kubelet.config.k8s.io/v1beta1',
      enableServer: true,
      port,
      readOnlyPort: 0,
      cgroupDriver: 'systemd',
      clusterDomain: 'cluster.local',
      maxPods: 110,
      podLogsDir: '/var/log/pods',
      containerRuntimeEndpoint: 'unix:///run/fathom-podrunner.sock',
    },
  };
}

async function handle(
  req: IncomingMessage,
  res: ServerResponse,
  find: FindLog,
  port: number,
): Promise<void> {
  const url = new URL(req.url ?? '/', 'https://kubelet');
  if (req.method === 'GET' && url.pathname === '/healthz') {
    res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
    return;
  }
  if (req.method === 'GET' && url.pathname === '/configz') {
    res
      .writeHead(200, { 'content-type': 'application/json' })
      .end(JSON.stringify(kubeletConfigz(port)));
    return;
  }
  const m = /^\/containerLogs\/([^/]+)\/([^/]+)\/([^/]+)$/.exec(url.pathname);
  if (req.method !== 'GET' || !m) {
    res
      .writeHead(404, { 'content-type': 'text/plain' })
      .end('the pod runner serves containerLogs, healthz and configz only\n');
    return;
  }
  const [namespace, pod, container] = m.slice(1).map(decodeURIComponent) as [
    string,
    string,
    string,
  ];
  const target = find(namespace, pod, container);
  if (!target) {
    res
      .writeHead(404, { 'content-type': 'text/plain' })
      .end(`container ${container} of pod ${namespace}/${pod} is not on this node\n`);
    return;
  }
  const options: LogOptions = {
    ...(wholeNumber(url.searchParams.get('tailLines')) !== undefined
      ? { tailLines: wholeNumber(url.searchParams.get('tailLines'))! }
      : {}),
  };
  const limitBytes = wholeNumber(url.searchParams.get('limitBytes'));
  const text = await readFile(target.path).catch(() => undefined);
  if (!text) {
    res
      .writeHead(400, { 'content-type': 'text/plain' })
      .end(`container "${container}" in pod "${pod}" is waiting to start\n`);
    return;
  }
  const first = selectLog(text, {
    ...options,
    ...(limitBytes !== undefined ? { limitBytes } : {}),
  });
  res.writeHead(200, { 'content-type': 'text/plain' });
  if (url.searchParams.get('follow') !== 'true') {
    res.end(first);
    return;
  }
  res.write(first);
  await follow(
    res,
    target,
    text.length,
    limitBytes === undefined ? Infinity : limitBytes - first.length,
  );
}

export interface KubeletEndpoints {
  /** The port each node's endpoint listens on (its node IP is the host). */
  readonly ports: ReadonlyMap<string, number>;
  close(): Promise<void>;
}

/**
 * One HTTPS listener per node (`nodeIps`: node → IP), all serving `find`: on the node's IP, or
 * on `host` (another port per node) when given.
 */
export async function startKubeletEndpoints(
  nodeIps: ReadonlyMap<string, string>,
  find: FindLog,
  host?: string,
): Promise<KubeletEndpoints> {
  const tls = await (
    await createRunCa({ now: Date.now() })
  ).serverCert([...nodeIps.values(), ...(host ? [host] : [])]);
  const servers: Server[] = [];
  const ports = new Map<string, number>();
  const closeAll = (): Promise<void> =>
    Promise.all(
      servers.map((s) => {
        s.closeAllConnections();
        return new Promise<void>((r) => s.close(() => r()));
      }),
    ).then(() => undefined);
  try {
    for (const [node, ip] of nodeIps) {
      const server = createServer({ cert: tls.certPem, key: tls.keyPem }, (req, res) => {
        handle(req, res, find, (server.address() as AddressInfo).port).catch((err: Error) => {
          if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
          res.end(`${err.message}\n`);
        });
      });
      servers.push(server);
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(0, host ?? ip, () => resolve());
      });
      ports.set(node, (server.address() as AddressInfo).port);
    }
  } catch (err) {
    await closeAll();
    throw err;
  }
  return { ports, close: closeAll };
}
