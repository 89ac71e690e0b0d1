/**
 * Just enough of the Kubernetes API for the test control plane: JSON over HTTPS with a client
 * certificate, and kubeconfig files. Deliberately not `@kubernetes/client-node`: the cluster
 * harness must not depend on the library the backend under test uses.
 */
import { readFile } from 'node:fs/promises';
import { Agent, request } from 'node:https';
import { stringify, parse } from 'yaml';

/** TLS material for one API user. */
export interface KubeCredentials {
  readonly caPem: string;
  readonly certPem: string;
  readonly keyPem: string;
}

export interface KubeResponse<T> {
  readonly status: number;
  /** Parsed JSON, or undefined when the body is not JSON (e.g. `/readyz` says `ok`). */
  readonly body: T;
  readonly text: string;
}

export type KubeMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** A JSON client for one API server and one user. */
export interface KubeHttp {
  readonly server: string;
  request<T = unknown>(
    method: KubeMethod,
    path: string,
    body?: unknown,
    contentType?: string,
  ): Promise<KubeResponse<T>>;
  /** GET that throws unless the answer is 2xx. */
  get<T = unknown>(path: string): Promise<T>;
  /** POST that throws unless the answer is 2xx. */
  create<T = unknown>(path: string, body: unknown): Promise<T>;
  /**
   * Lists `path` (a collection), then watches it, and resolves with the first non-undefined
   * result of `until` over the current objects (keyed namespace/name). Event-driven: it
   * re-evaluates on every watch event, never on a timer; `timeoutMs` only bounds the wait.
   */
  waitForList<T extends KubeObject, R>(
    path: string,
    until: (objects: ReadonlyMap<string, T>) => R | undefined,
    timeoutMs?: number,
  ): Promise<R>;
  /** Frees the keep-alive sockets. */
  close(): void;
}

/** The part of every object the watch helper reads. */
export interface KubeObject {
  metadata: { name: string; namespace?: string; resourceVersion?: string };
}

const keyOf = (o: KubeObject): string => `${o.metadata.namespace ?? ''}/${o.metadata.name}`;

class HttpsKubeClient implements KubeHttp {
  readonly #agent: Agent;
  readonly #url: URL;

  constructor(
    readonly server: string,
    creds: KubeCredentials,
    private readonly timeoutMs: number,
  ) {
    this.#url = new URL(server);
    this.#agent = new Agent({
      keepAlive: true,
      maxSockets: 16,
      ca: creds.caPem,
      cert: creds.certPem,
      key: creds.keyPem,
    });
  }

  request<T>(
    method: KubeMethod,
    path: string,
    body?: unknown,
    contentType = 'application/json',
  ): Promise<KubeResponse<T>> {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    return new Promise((resolve, reject) => {
      const req = request(
        {
          agent: this.#agent,
          host: this.#url.hostname,
          port: this.#url.port,
          method,
          path,
          timeout: this.timeoutMs,
          headers: {
            accept: 'application/json',
            ...(payload === undefined
              ? {}
              : { 'content-type': contentType, 'content-length': Buffer.byteLength(payload) }),
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('error', reject);
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let parsed: unknown;
            try {
              parsed = JSON.parse(text);
            } catch {
              parsed = undefined;
            }
            resolve({ status: res.statusCode ?? 0, body: parsed as T, text });
          });
        },
      );
      req.on('timeout', () =>
        req.destroy(new Error(`${method} ${path}: no answer in ${this.timeoutMs} ms`)),
      );
      req.on('error', reject);
      req.end(payload);
    });
  }

  async get<T>(path: string): Promise<T> {
    return ok(await this.request<T>('GET', path), 'GET', path);
  }

  async create<T>(path: string, body: unknown): Promise<T> {
    return ok(await this.request<T>('POST', path, body), 'POST', path);
  }

  async waitForList<T extends KubeObject, R>(
    path: string,
    until: (objects: ReadonlyMap<string, T>) => R | undefined,
    timeoutMs = 60_000,
  ): Promise<R> {
    const deadline = Date.now() + timeoutMs;
    // The server ends watches that fall behind (and every few minutes anyway): list again and
    // go on watching until the condition holds or the deadline passes.
    for (;;) {
      const list = await this.get<{ items: T[]; metadata: { resourceVersion: string } }>(path);
      const objects = new Map(list.items.map((o) => [keyOf(o), o]));
      const first = until(objects);
      if (first !== undefined) return first;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`watch ${path}: condition not met within ${timeoutMs} ms`);
      const outcome = await this.#watchOnce(
        path,
        list.metadata.resourceVersion,
        objects,
        until,
        left,
      );
      if (outcome.done) return outcome.value;
    }
  }

  /** One watch from `resourceVersion`; `done: false` when the server closed it early. */
  #watchOnce<T extends KubeObject, R>(
    path: string,
    resourceVersion: string,
    objects: Map<string, T>,
    until: (objects: ReadonlyMap<string, T>) => R | undefined,
    timeoutMs: number,
  ): Promise<{ done: true; value: R } | { done: false }> {
    const sep = path.includes('?') ? '&' : '?';
    const watchPath = `${path}${sep}watch=1&resourceVersion=${resourceVersion}`;
    return new Promise((resolve, reject) => {
      let buffered = '';
      const req = request(
        {
          agent: this.#agent,
          host: this.#url.hostname,
          port: this.#url.port,
          path: watchPath,
          headers: { accept: 'application/json' },
        },
        (res) => {
          if (res.statusCode !== 200) {
            res.resume();
            return finish(new Error(`watch ${path}: HTTP ${res.statusCode}`));
          }
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => {
            buffered += chunk;
            let nl: number;
            while ((nl = buffered.indexOf('\n')) >= 0) {
              const line = buffered.slice(0, nl).trim();
              buffered = buffered.slice(nl + 1);
              if (!line) continue;
              const event = JSON.parse(line) as { type: string; object: T & { code?: number } };
              if (event.type === 'ERROR') {
                // 410 Gone: the resourceVersion is too old; a fresh list takes over.
                if (event.object.code === 410) return finish(undefined, { done: false });
                return finish(new Error(`watch ${path}: ${JSON.stringify(event.object)}`));
              }
              if (event.type === 'BOOKMARK') continue;
              if (event.type === 'DELETED') objects.delete(keyOf(event.object));
              else objects.set(keyOf(event.object), event.object);
              const result = until(objects);
              if (result !== undefined) return finish(undefined, { done: true, value: result });
            }
          });
          res.on('end', () => finish(undefined, { done: false }));
        },
      );
      const limit = setTimeout(
        () => finish(new Error(`watch ${path}: condition not met in time`)),
        timeoutMs,
      );
      let settled = false;
      function finish(err: Error | undefined, value?: { done: true; value: R } | { done: false }) {
        if (settled) return;
        settled = true;
        clearTimeout(limit);
        req.destroy();
        if (err) reject(err);
        else resolve(value!);
      }
      req.on('error', (err) => finish(err));
      req.end();
    });
  }

  close(): void {
    this.#agent.destroy();
  }
}

function ok<T>(res: KubeResponse<T>, method: string, path: string): T {
  if (res.status >= 200 && res.status < 300) return res.body;
  const message = (res.body as { message?: string } | undefined)?.message ?? res.text.slice(0, 300);
  throw new Error(`${method} ${path}: HTTP ${res.status}: ${message}`);
}

/** A client for `server` authenticating with `creds`. */
export function createKubeHttp(
  server: string,
  creds: KubeCredentials,
  timeoutMs = 30_000,
): KubeHttp {
  return new HttpsKubeClient(server, creds, timeoutMs);
}

const b64 = (s: string): string => Buffer.from(s, 'utf8').toString('base64');
const unb64 = (s: unknown): string =>
  typeof s === 'string' ? Buffer.from(s, 'base64').toString('utf8') : '';

/** A self-contained kubeconfig (certificates embedded) with one cluster, user and context. */
export function renderKubeconfig(opts: {
  server: string;
  creds: KubeCredentials;
  user: string;
  cluster?: string;
}): string {
  const cluster = opts.cluster ?? 'fathom-test';
  const context = `${opts.user}@${cluster}`;
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [
      {
        name: cluster,
        cluster: { server: opts.server, 'certificate-authority-data': b64(opts.creds.caPem) },
      },
    ],
    users: [
      {
        name: opts.user,
        user: {
          'client-certificate-data': b64(opts.creds.certPem),
          'client-key-data': b64(opts.creds.keyPem),
        },
      },
    ],
    contexts: [{ name: context, context: { cluster, user: opts.user } }],
    'current-context': context,
    preferences: {},
  });
}

/** The parts of a kubeconfig that `readKubeconfig` reads. */
interface KubeconfigDoc {
  'current-context'?: string;
  contexts?: { name: string; context?: { cluster?: string; user?: string } }[];
  clusters?: {
    name: string;
    cluster?: { server?: string; 'certificate-authority-data'?: string };
  }[];
  users?: {
    name: string;
    user?: { 'client-certificate-data'?: string; 'client-key-data'?: string };
  }[];
}

/** Reads a kubeconfig written by `renderKubeconfig` (current context, embedded data only). */
export async function readKubeconfig(
  path: string,
): Promise<{ server: string; creds: KubeCredentials }> {
  const doc = (parse(await readFile(path, 'utf8')) ?? {}) as KubeconfigDoc;
  const ctx = doc.contexts?.find((c) => c.name === doc['current-context'])?.context;
  const cluster = doc.clusters?.find((c) => c.name === ctx?.cluster)?.cluster;
  const user = doc.users?.find((u) => u.name === ctx?.user)?.user;
  if (!cluster?.server || !user)
    throw new Error(`${path}: no current context with a cluster and user`);
  return {
    server: cluster.server,
    creds: {
      caPem: unb64(cluster['certificate-authority-data']),
      certPem: unb64(user['client-certificate-data']),
      keyPem: unb64(user['client-key-data']),
    },
  };
}

/** A client for the current context of a kubeconfig written by `renderKubeconfig`. */
export async function kubeHttpFromKubeconfig(path: string): Promise<KubeHttp> {
  const { server, creds } = await readKubeconfig(path);
  return createKubeHttp(server, creds);
}
