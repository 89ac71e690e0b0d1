/**
 * A follower passes leader-only calls on to the leader (the original's LeaderForwarder): same
 * method, path, body and credentials, the leader's answer relayed as it came. Bounded: at most
 * `maxConnections` at once to the leader, each answered within `timeoutMs`.
 */
import http from 'node:http';
import https from 'node:https';
import type { FastifyReply, FastifyRequest } from 'fastify';

export interface ForwardOptions {
  /** Verify the leader with this CA (HTTPS); plain HTTP without. */
  readonly caPem?: string;
  /** The name in the replicas' certificate (they share one; their addresses are IPs). */
  readonly servername?: string;
  readonly timeoutMs: number;
  readonly maxConnections: number;
}

const PASSED_HEADERS = ['authorization', 'content-type', 'x-real-ip'] as const;

const agents = new WeakMap<ForwardOptions, http.Agent>();

function agentFor(o: ForwardOptions): http.Agent {
  let agent = agents.get(o);
  if (!agent) {
    agent = o.caPem
      ? new https.Agent({ keepAlive: true, maxSockets: o.maxConnections, ca: o.caPem })
      : new http.Agent({ keepAlive: true, maxSockets: o.maxConnections });
    agents.set(o, agent);
  }
  return agent;
}

export async function forwardToLeader(
  request: FastifyRequest,
  reply: FastifyReply,
  address: string,
  o: ForwardOptions,
): Promise<FastifyReply> {
  const headers: Record<string, string> = {};
  for (const h of PASSED_HEADERS) {
    const v = request.headers[h];
    if (typeof v === 'string') headers[h] = v;
  }
  if (!headers['x-real-ip'] && request.ip) headers['x-real-ip'] = request.ip;
  const body = typeof request.body === 'string' ? request.body : '';
  const [host, port] = splitAddress(address);
  const send = o.caPem ? https.request : http.request;
  try {
    const answer = await new Promise<{
      status: number;
      headers: http.IncomingHttpHeaders;
      body: Buffer;
    }>((resolve, reject) => {
      const req = send(
        {
          host,
          port,
          method: request.method,
          path: request.url,
          headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) },
          agent: agentFor(o),
          timeout: o.timeoutMs,
          ...(o.servername ? { servername: o.servername } : {}),
        },
        (res) => {
          const parts: Buffer[] = [];
          res.on('data', (c: Buffer) => parts.push(c));
          res.on('end', () =>
            resolve({
              status: res.statusCode ?? 502,
              headers: res.headers,
              body: Buffer.concat(parts),
            }),
          );
          res.on('error', reject);
        },
      );
      req.on('timeout', () => req.destroy(new Error(`no answer within ${o.timeoutMs} ms`)));
      req.on('error', reject);
      req.end(body);
    });
    for (const [k, v] of Object.entries(answer.headers)) {
      if (k === 'content-type' || k.startsWith('fathom-')) reply.header(k, v);
    }
    return reply.code(answer.status).send(answer.body);
  } catch (err) {
    return reply
      .code(503)
      .header('content-type', 'text/plain; charset=utf-8')
      .send(`Follower unable to forward to the leader at ${address}: ${(err as Error).message}\n`);
  }
}

function splitAddress(address: string): [string, number] {
  const i = address.lastIndexOf(':');
  const host = address.slice(0, i).replace(/^\[|\]$/g, '');
  return [host, Number(address.slice(i + 1))];
}
