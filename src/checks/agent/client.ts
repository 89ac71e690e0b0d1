/**
 * The node agent's side of the node-agent API: status POSTs and config GETs with the bearer
 * token, over HTTPS verified against the dispatcher's CA (or plain HTTP on loopback in tests),
 * each bounded by a timeout. Answers carry fathom's term and expiration headers when present.
 */
import http from 'node:http';
import https from 'node:https';
import { FathomError } from '../../core/errors.js';
import { configFromWire } from '../config/index.js';
import { EXPIRATION_HEADER, TERM_HEADER, type NodeStatus } from '../wire.js';
import type { CheckConfig } from '../types.js';

export interface AgentClientOptions {
  /** `https://host:port` (or http://). */
  readonly url: string;
  readonly token: string;
  readonly caPem?: string;
  /** The name in the dispatcher's certificate, when the URL's host is not in it. */
  readonly servername?: string;
  /** The original's postStatusTimeout: 5 s. */
  readonly timeoutMs: number;
  /** This agent's address for callbacks (X-Real-Ip). */
  readonly realIp?: string;
}

export interface Answer<T> {
  readonly value: T;
  /** The leader's term (-1 when the dispatcher does not say: the original's). */
  readonly term: number;
  readonly expirationMs?: number;
}

export interface AgentClient {
  postStatus(node: string, status: NodeStatus): Promise<Answer<boolean>>;
  getConfigs(node: string): Promise<Answer<{ lastChange: number; configs: CheckConfig[] }>>;
  close(): void;
}

/** Answers are small; anything bigger is refused. */
const MAX_ANSWER = 64 * 1024 * 1024;

export function createAgentClient(o: AgentClientOptions): AgentClient {
  const base = new URL(o.url);
  const secure = base.protocol === 'https:';
  const agent = secure
    ? new https.Agent({ keepAlive: true, maxSockets: 2, ...(o.caPem ? { ca: o.caPem } : {}) })
    : new http.Agent({ keepAlive: true, maxSockets: 2 });

  const send = (method: string, path: string, body?: string) =>
    new Promise<{ status: number; headers: http.IncomingHttpHeaders; text: string }>(
      (resolve, reject) => {
        const req = (secure ? https.request : http.request)(
          new URL(path, base),
          {
            method,
            agent,
            timeout: o.timeoutMs,
            headers: {
              authorization: `Bearer ${o.token}`,
              ...(o.realIp ? { 'x-real-ip': o.realIp } : {}),
              ...(body !== undefined
                ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }
                : {}),
            },
            ...(o.servername ? { servername: o.servername } : {}),
          },
          (res) => {
            const parts: Buffer[] = [];
            let size = 0;
            res.on('data', (c: Buffer) => {
              size += c.length;
              if (size > MAX_ANSWER) req.destroy(new Error('answer too large'));
              else parts.push(c);
            });
            res.on('end', () =>
              resolve({
                status: res.statusCode ?? 0,
                headers: res.headers,
                text: Buffer.concat(parts).toString('utf8'),
              }),
            );
            res.on('error', reject);
          },
        );
        req.on('timeout', () => req.destroy(new Error(`no answer within ${o.timeoutMs} ms`)));
        req.on('error', reject);
        req.end(body);
      },
    ).catch((cause: unknown) => {
      throw new FathomError(
        'FATHOM_DISPATCHER_UNAVAILABLE',
        `${method} ${path}: ${(cause as Error).message}`,
        { cause },
      );
    });

  const answered = async <T>(
    method: string,
    path: string,
    read: (json: unknown) => T,
    body?: string,
  ): Promise<Answer<T>> => {
    const res = await send(method, path, body);
    if (res.status !== 200) {
      throw new FathomError(
        'FATHOM_DISPATCHER_UNAVAILABLE',
        `${method} ${path}: ${res.status} ${res.text.trim().slice(0, 300)}`,
        { details: { status: res.status } },
      );
    }
    const term = Number(res.headers[TERM_HEADER] ?? -1);
    const exp = Number(res.headers[EXPIRATION_HEADER]);
    return {
      value: read(JSON.parse(res.text)),
      term: Number.isFinite(term) ? term : -1,
      ...(Number.isFinite(exp) && exp > 0 ? { expirationMs: exp } : {}),
    };
  };

  const node = (name: string): string => encodeURIComponent(name);
  return {
    postStatus: (name, status) =>
      answered(
        'POST',
        `/api/v1/clusterchecks/status/${node(name)}`,
        (j) => (j as { isuptodate?: unknown }).isuptodate === true,
        JSON.stringify(status),
      ),
    getConfigs: (name) =>
      answered('GET', `/api/v1/clusterchecks/configs/${node(name)}`, (j) => {
        const r = j as { last_change?: unknown; configs?: unknown };
        return {
          lastChange: typeof r.last_change === 'number' ? r.last_change : 0,
          configs: (Array.isArray(r.configs) ? (r.configs as unknown[]) : []).map((c, i) =>
            configFromWire(c, `configs[${i}] from the dispatcher`),
          ),
        };
      }),
    close: () => agent.destroy(),
  };
}
