/**
 * The operator's side of the node-agent API (`fathom checks state|rebalance|isolate`): one
 * replica's answers, with the bearer token, over HTTPS verified against the dispatcher's CA.
 * Any replica takes rebalance and isolate (a follower forwards them); the state is each
 * replica's own (a follower answers `not_running`).
 */
import https from 'node:https';
import http from 'node:http';
import { FathomError } from '../core/errors.js';
import type { IsolateResponse, RebalanceResponse, StateResponse } from './wire.js';

export interface ChecksApiOptions {
  readonly url: string;
  readonly token: string;
  readonly caPem?: string;
  readonly timeoutMs: number;
}

export interface ChecksApi {
  state(): Promise<StateResponse>;
  rebalance(force: boolean): Promise<RebalanceResponse[]>;
  isolate(checkId: string): Promise<IsolateResponse>;
}

const MAX_ANSWER = 64 * 1024 * 1024;

export function createChecksApi(o: ChecksApiOptions): ChecksApi {
  const base = new URL(o.url);
  const secure = base.protocol === 'https:';
  const call = <T>(method: string, path: string): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      const fail = (message: string, status?: number): void =>
        reject(
          new FathomError(
            'FATHOM_DISPATCHER_UNAVAILABLE',
            `${o.url}: ${method} ${path}: ${message}`,
            {
              details: { url: o.url, ...(status ? { status } : {}) },
            },
          ),
        );
      const req = (secure ? https.request : http.request)(
        new URL(path, base),
        {
          method,
          timeout: o.timeoutMs,
          headers: { authorization: `Bearer ${o.token}`, 'content-length': 0 },
          ...(secure && o.caPem ? { ca: o.caPem } : {}),
        },
        (res) => {
          const parts: Buffer[] = [];
          let size = 0;
          res.on('data', (c: Buffer) => {
            size += c.length;
            if (size > MAX_ANSWER) req.destroy(new Error('answer too large'));
            else parts.push(c);
          });
          res.on('error', (err) => fail(err.message));
          res.on('end', () => {
            const text = Buffer.concat(parts).toString('utf8');
            if (res.statusCode !== 200) {
              return fail(`${res.statusCode} ${text.trim().slice(0, 300)}`, res.statusCode);
            }
            try {
              resolve(JSON.parse(text) as T);
            } catch (err) {
              fail(`not JSON: ${(err as Error).message}`);
            }
          });
        },
      );
      req.on('timeout', () => req.destroy(new Error(`no answer within ${o.timeoutMs} ms`)));
      req.on('error', (err) => fail(err.message));
      req.end();
    });
  return {
    state: () => call('GET', '/api/v1/clusterchecks'),
    rebalance: (force) =>
      call('POST', `/api/v1/clusterchecks/rebalance${force ? '?force=true' : ''}`),
    isolate: (id) => call('POST', `/api/v1/clusterchecks/isolate/check/${encodeURIComponent(id)}`),
  };
}
