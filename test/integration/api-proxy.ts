/**
 * A TCP proxy in front of the test API server, for tests of what fathom does while the server
 * is gone: `down` breaks every open connection and refuses new ones, `up` lets them through
 * again on the same address. TLS passes through untouched (the server's certificate names
 * 127.0.0.1, whatever the port).
 */
import { readFile, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { parse, stringify } from 'yaml';

export interface ApiProxy {
  /** `https://127.0.0.1:<port>`, for a kubeconfig. */
  readonly server: string;
  down(): Promise<void>;
  up(): Promise<void>;
  close(): Promise<void>;
}

export async function startApiProxy(apiServer: string): Promise<ApiProxy> {
  const target = new URL(apiServer);
  const sockets = new Set<net.Socket>();
  const proxy = net.createServer((client) => {
    const upstream = net.connect(Number(target.port), target.hostname);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('error', () => s.destroy());
      s.on('close', () => sockets.delete(s));
    }
    client.pipe(upstream).pipe(client);
  });
  const listen = (port: number): Promise<void> =>
    new Promise((resolve, reject) => {
      proxy.once('error', reject);
      proxy.listen(port, '127.0.0.1', () => {
        proxy.off('error', reject);
        resolve();
      });
    });
  const stop = (): Promise<void> =>
    new Promise((resolve) => {
      if (!proxy.listening) return resolve();
      proxy.close(() => resolve());
      for (const s of sockets) s.destroy();
    });
  await listen(0);
  const port = (proxy.address() as net.AddressInfo).port;
  return {
    server: `https://127.0.0.1:${port}`,
    down: stop,
    up: () => listen(port),
    close: stop,
  };
}

/** Writes to `path` a copy of `kubeconfig` whose every cluster is reached at `server`. */
export async function kubeconfigVia(kubeconfig: string, server: string, path: string) {
  const doc = parse(await readFile(kubeconfig, 'utf8')) as {
    clusters: { cluster: Record<string, unknown> }[];
  };
  for (const c of doc.clusters) c.cluster.server = server;
  await writeFile(path, stringify(doc), { mode: 0o600 });
}
