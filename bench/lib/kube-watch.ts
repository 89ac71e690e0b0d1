/**
 * Waiting on a collection through list + watch, as the bench's observer (the admin, not fathom).
 * Unlike test/cluster's `waitForList`, a watch the server ends is resumed: with hundreds of pods
 * changing at once on 2 busy cores, the API server closes watchers that fall behind.
 */
import { Agent, request } from 'node:https';
import type { KubeCredentials, KubeObject } from '../../test/cluster/kube.js';

const keyOf = (o: KubeObject): string => `${o.metadata.namespace ?? ''}/${o.metadata.name}`;

function getJson<T>(agent: Agent, server: URL, path: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        agent,
        host: server.hostname,
        port: server.port,
        path,
        headers: { accept: 'application/json' },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          if (res.statusCode !== 200)
            reject(new Error(`GET ${path}: HTTP ${res.statusCode}: ${text.slice(0, 300)}`));
          else resolve(JSON.parse(text) as T);
        });
      },
    );
    req.on('error', reject);
    req.end();
  });
}

export interface Watcher {
  /**
   * Resolves with the first non-undefined result of `until` over the current objects, evaluated
   * after the list and after every watch event; `watches` counts the watch requests it took.
   */
  waitFor<T extends KubeObject, R>(
    path: string,
    until: (objects: ReadonlyMap<string, T>) => R | undefined,
    timeoutMs: number,
  ): Promise<{ result: R; watches: number }>;
  close(): void;
}

export function createWatcher(serverUrl: string, creds: KubeCredentials): Watcher {
  const server = new URL(serverUrl);
  const agent = new Agent({
    keepAlive: true,
    ca: creds.caPem,
    cert: creds.certPem,
    key: creds.keyPem,
  });
  return {
    close: () => agent.destroy(),
    async waitFor<T extends KubeObject, R>(
      path: string,
      until: (objects: ReadonlyMap<string, T>) => R | undefined,
      timeoutMs: number,
    ): Promise<{ result: R; watches: number }> {
      const deadline = performance.now() + timeoutMs;
      const sep = path.includes('?') ? '&' : '?';
      let watches = 0;
      let objects = new Map<string, T>();
      let rv: string | undefined;
      for (;;) {
        if (performance.now() > deadline)
          throw new Error(`${path}: condition not met within ${timeoutMs} ms`);
        if (rv === undefined) {
          const list = await getJson<{ items: T[]; metadata: { resourceVersion: string } }>(
            agent,
            server,
            path,
          );
          objects = new Map(list.items.map((o) => [keyOf(o), o]));
          rv = list.metadata.resourceVersion;
          const first = until(objects);
          if (first !== undefined) return { result: first, watches };
        }
        watches++;
        const outcome = await new Promise<{ result?: R; gone?: boolean }>((resolve, reject) => {
          let buffered = '';
          let done = false;
          const finish = (value: { result?: R; gone?: boolean }): void => {
            if (done) return;
            done = true;
            clearTimeout(limit);
            req.destroy();
            resolve(value);
          };
          const req = request(
            {
              agent,
              host: server.hostname,
              port: server.port,
              path: `${path}${sep}watch=1&allowWatchBookmarks=true&resourceVersion=${rv}`,
              headers: { accept: 'application/json' },
            },
            (res) => {
              if (res.statusCode !== 200) {
                res.resume();
                return finish({ gone: true });
              }
              res.setEncoding('utf8');
              res.on('data', (chunk: string) => {
                buffered += chunk;
                const lines = buffered.split('\n');
                buffered = lines.pop()!;
                for (const line of lines) {
                  if (done || !line.trim()) continue;
                  const ev = JSON.parse(line) as { type: string; object: T };
                  if (ev.type === 'ERROR') return finish({ gone: true }); // 410: list again
                  rv = ev.object.metadata.resourceVersion ?? rv;
                  if (ev.type === 'BOOKMARK') continue;
                  if (ev.type === 'DELETED') objects.delete(keyOf(ev.object));
                  else objects.set(keyOf(ev.object), ev.object);
                  const result = until(objects);
                  if (result !== undefined) return finish({ result });
                }
              });
              res.on('end', () => finish({})); // resume from rv
              res.on('error', () => finish({}));
            },
          );
          const limit = setTimeout(
            () => {
              done = true;
              req.destroy();
              reject(new Error(`${path}: condition not met within ${timeoutMs} ms`));
            },
            Math.max(0, deadline - performance.now()),
          );
          req.on('error', () => finish({}));
          req.end();
        });
        if (outcome.result !== undefined) return { result: outcome.result, watches };
        if (outcome.gone) rv = undefined;
      }
    },
  };
}
