/**
 * JSON over HTTPS to the API server, authenticated by the client library's KubeConfig (client
 * certificates, tokens, token files, exec and OIDC plugins all work). Objects go out and come
 * back as the API's own JSON: the client's typed models drop fields they do not know, and a
 * plugin's podSpec may use newer fields than the library's models.
 */
import { createHash } from 'node:crypto';
import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';
import type { KubeConfig } from '@kubernetes/client-node';
import { FathomError } from '../../../core/errors.js';
import { apiError, KubeApiError, parseStatus, retryAfterHeader } from './errors.js';
import type { ResolvedKubeconfig } from './kubeconfig.js';

export type Query = Readonly<Record<string, string | number | boolean | undefined>>;

/** A list answer: items plus where to continue. */
export interface KubeList<T> {
  readonly items: T[];
  readonly metadata: { readonly resourceVersion?: string; readonly continue?: string };
}

export interface RequestOptions {
  readonly query?: Query;
  readonly body?: unknown;
  /** Defaults to application/json when there is a body. */
  readonly contentType?: string;
  readonly signal?: AbortSignal;
  /** Extra request headers (the API server's pod proxy passes them on). */
  readonly headers?: Readonly<Record<string, string>>;
}

/** The API calls the backend makes. Every failure is a FathomError naming `what`. */
export interface KubeClient {
  readonly server: string;
  readonly kubeConfig: KubeConfig;
  request<T>(method: string, path: string, what: string, options?: RequestOptions): Promise<T>;
  get<T>(path: string, what: string, query?: Query): Promise<T>;
  /** GET that answers undefined for 404. */
  find<T>(path: string, what: string): Promise<T | undefined>;
  /** Lists a collection, following `continue` tokens. */
  list<T>(path: string, what: string, query?: Query): Promise<KubeList<T>>;
  create<T>(path: string, body: unknown, what: string): Promise<T>;
  /** JSON merge patch (RFC 7386). */
  mergePatch<T>(path: string, patch: unknown, what: string): Promise<T>;
  /** DELETE; false when the object was already gone. */
  remove(path: string, what: string, query?: Query): Promise<boolean>;
  /** A streaming GET (logs, the pod proxy): the open 2xx response. */
  stream(path: string, what: string, options?: RequestOptions): Promise<IncomingMessage>;
  /** Frees pooled connections. */
  close(): void;
}

const LIST_PAGE = 500;

class HttpKubeClient implements KubeClient {
  readonly server: string;
  readonly kubeConfig: KubeConfig;
  readonly #timeoutMs: number;
  readonly #agents = new Map<string, http.Agent>();

  constructor(resolved: Pick<ResolvedKubeconfig, 'kubeConfig' | 'server' | 'requestTimeoutMs'>) {
    this.server = resolved.server;
    this.kubeConfig = resolved.kubeConfig;
    this.#timeoutMs = resolved.requestTimeoutMs;
  }

  async request<T>(
    method: string,
    path: string,
    what: string,
    options: RequestOptions = {},
  ): Promise<T> {
    const sent = this.#send(method, path, options, true);
    try {
      const res = await sent.response;
      const text = await readText(res);
      if (res.statusCode! >= 400)
        throw new KubeApiError(
          res.statusCode!,
          parseStatus(text),
          text,
          retryAfterHeader(res.headers['retry-after']),
        );
      return (text ? JSON.parse(text) : undefined) as T;
    } catch (err) {
      throw apiError(sent.signal.aborted ? abortReason(sent.signal) : err, what);
    }
  }

  get<T>(path: string, what: string, query?: Query): Promise<T> {
    return this.request<T>('GET', path, what, query ? { query } : {});
  }

  async find<T>(path: string, what: string): Promise<T | undefined> {
    try {
      return await this.get<T>(path, what);
    } catch (err) {
      if (err instanceof FathomError && err.code === 'FATHOM_KUBE_NOT_FOUND') return undefined;
      throw err;
    }
  }

  async list<T>(path: string, what: string, query: Query = {}): Promise<KubeList<T>> {
    const items: T[] = [];
    let page: KubeList<T>;
    let cont: string | undefined;
    do {
      page = await this.get<KubeList<T>>(path, what, {
        ...query,
        limit: LIST_PAGE,
        ...(cont ? { continue: cont } : {}),
      });
      items.push(...(page.items ?? []));
      cont = page.metadata?.continue || undefined;
    } while (cont);
    return { items, metadata: { resourceVersion: page.metadata?.resourceVersion } };
  }

  create<T>(path: string, body: unknown, what: string): Promise<T> {
    return this.request<T>('POST', path, what, { body });
  }

  mergePatch<T>(path: string, patch: unknown, what: string): Promise<T> {
    return this.request<T>('PATCH', path, what, {
      body: patch,
      contentType: 'application/merge-patch+json',
    });
  }

  async remove(path: string, what: string, query?: Query): Promise<boolean> {
    try {
      await this.request('DELETE', path, what, query ? { query } : {});
      return true;
    } catch (err) {
      if (err instanceof FathomError && err.code === 'FATHOM_KUBE_NOT_FOUND') return false;
      throw err;
    }
  }

  async stream(path: string, what: string, options: RequestOptions = {}): Promise<IncomingMessage> {
    const sent = this.#send('GET', path, options, false);
    try {
      const res = await sent.response;
      if (res.statusCode! >= 400) {
        const text = await readText(res);
        throw new KubeApiError(
          res.statusCode!,
          parseStatus(text),
          text,
          retryAfterHeader(res.headers['retry-after']),
        );
      }
      return res;
    } catch (err) {
      throw apiError(sent.signal.aborted ? abortReason(sent.signal) : err, what);
    }
  }

  close(): void {
    for (const agent of this.#agents.values()) agent.destroy();
    this.#agents.clear();
  }

  /**
   * Sends one request. The request timeout covers the whole exchange when `whole`, else only
   * until the response starts: streams (logs -f, downloads) end by the caller's signal.
   */
  #send(
    method: string,
    path: string,
    options: RequestOptions,
    whole: boolean,
  ): { response: Promise<IncomingMessage>; signal: AbortSignal } {
    const ac = new AbortController();
    const onCallerAbort = (): void => ac.abort(abortReason(options.signal));
    if (options.signal?.aborted) onCallerAbort();
    else options.signal?.addEventListener('abort', onCallerAbort, { once: true });
    let responded = false;
    const timeout = this.#timeoutMs > 0 ? AbortSignal.timeout(this.#timeoutMs) : undefined;
    timeout?.addEventListener(
      'abort',
      () => {
        if (whole || !responded) ac.abort(timeout.reason);
      },
      { once: true },
    );
    const response = (async () => {
      const url = new URL(this.server + path);
      for (const [k, v] of Object.entries(options.query ?? {})) {
        if (v !== undefined) url.searchParams.set(k, String(v));
      }
      const auth: https.RequestOptions = {};
      await this.kubeConfig.applyToHTTPSOptions(auth);
      const body = options.body === undefined ? undefined : JSON.stringify(options.body);
      const headers: Record<string, string> = {
        accept: 'application/json, */*',
        ...stringHeaders(auth.headers),
        ...options.headers,
      };
      if (auth.auth) headers.authorization = `Basic ${Buffer.from(auth.auth).toString('base64')}`;
      if (body !== undefined) {
        headers['content-type'] = options.contentType ?? 'application/json';
        headers['content-length'] = String(Buffer.byteLength(body));
      }
      const lib = url.protocol === 'http:' ? http : https;
      const agent = this.#agentFor(auth);
      return new Promise<IncomingMessage>((resolveRes, reject) => {
        const req = lib.request(url, { method, headers, agent, signal: ac.signal }, (res) => {
          responded = true;
          res.once('close', () => options.signal?.removeEventListener('abort', onCallerAbort));
          resolveRes(res);
        });
        req.once('error', reject);
        req.end(body);
      });
    })();
    return { response, signal: ac.signal };
  }

  /** One keep-alive agent per TLS identity; a proxy agent from the config is used as it is. */
  #agentFor(auth: https.RequestOptions): http.Agent {
    if (this.kubeConfig.getCurrentCluster()?.proxyUrl && auth.agent)
      return auth.agent as http.Agent;
    const tls = {
      ca: auth.ca,
      cert: auth.cert,
      key: auth.key,
      pfx: auth.pfx,
      passphrase: auth.passphrase,
      servername: auth.servername,
      rejectUnauthorized: auth.rejectUnauthorized,
    };
    const key = createHash('sha256')
      .update(
        JSON.stringify(tls, (_k, v: unknown) => (Buffer.isBuffer(v) ? v.toString('base64') : v)),
      )
      .digest('hex');
    let agent = this.#agents.get(key);
    if (!agent) {
      const isHttp = this.server.startsWith('http:');
      agent = isHttp
        ? new http.Agent({ keepAlive: true, maxSockets: 32 })
        : new https.Agent({ keepAlive: true, maxSockets: 32, ...definedOnly(tls) });
      this.#agents.set(key, agent);
    }
    return agent;
  }
}

function abortReason(signal: AbortSignal | undefined): Error {
  const r: unknown = signal?.reason;
  return r instanceof Error ? r : new Error('aborted');
}

function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

function stringHeaders(h: https.RequestOptions['headers']): Record<string, string> {
  const out: Record<string, string> = {};
  if (!h || Array.isArray(h)) return out;
  for (const [k, v] of Object.entries(h)) {
    if (typeof v === 'string' || typeof v === 'number') out[k] = String(v);
    else if (Array.isArray(v)) out[k] = v.join(', ');
  }
  return out;
}

async function readText(res: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of res as AsyncIterable<Buffer>) chunks.push(chunk);
  return Buffer.concat(chunks).toString('utf8');
}

/** A client for a resolved kubeconfig. */
export function createKubeClient(
  resolved: Pick<ResolvedKubeconfig, 'kubeConfig' | 'server' | 'requestTimeoutMs'>,
): KubeClient {
  return new HttpKubeClient(resolved);
}

/** The API groups fathom calls, and their version where it is not `v1`. */
export type ApiGroup =
  | ''
  | 'apps'
  | 'rbac.authorization.k8s.io'
  | 'coordination.k8s.io'
  | 'apiextensions.k8s.io'
  | 'fathom.dev';
const groupVersions: Partial<Record<ApiGroup, string>> = { 'fathom.dev': 'v1alpha1' };

/** `/api/v1/namespaces/<ns>/<resource>[/<name>]` and the other groups' equivalents. */
export function resourcePath(
  group: ApiGroup,
  resource: string,
  namespace?: string,
  name?: string,
): string {
  const base = group === '' ? '/api/v1' : `/apis/${group}/${groupVersions[group] ?? 'v1'}`;
  const ns = namespace ? `/namespaces/${encodeURIComponent(namespace)}` : '';
  return `${base}${ns}/${resource}${name ? `/${encodeURIComponent(name)}` : ''}`;
}
