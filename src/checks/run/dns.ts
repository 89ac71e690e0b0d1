/** `dns`: resolve a name (of one record type) at the system's or a given server; expected answers. */
import { Resolver } from 'node:dns/promises';
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { messageOf } from '../../core/errors.js';
import type { DnsInstance, DnsRecordType } from '../instances.js';
import type { RunContext, RunOutcome } from './types.js';

/** `host`, `host:port`, `[v6]:port` or a bare IPv6 address into host and port (53 by default). */
export function parseServer(server: string): { host: string; port: number } {
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(server);
  if (bracketed) return { host: bracketed[1]!, port: Number(bracketed[2] ?? 53) };
  if (isIP(server) === 6) return { host: server, port: 53 };
  const hostPort = /^([^:]+):(\d+)$/.exec(server);
  if (hostPort) return { host: hostPort[1]!, port: Number(hostPort[2]) };
  return { host: server, port: 53 };
}

async function serverAddress(server: string): Promise<string> {
  const { host, port } = parseServer(server);
  // setServers takes addresses only: a name is looked up once per run with the system's resolver.
  const address = isIP(host) ? host : (await lookup(host)).address;
  return isIP(address) === 6 ? `[${address}]:${port}` : `${address}:${port}`;
}

/** Each answer as one string: addresses, names, `exchange` (MX), `target:port` (SRV), text. */
async function resolve(resolver: Resolver, name: string, type: DnsRecordType): Promise<string[]> {
  switch (type) {
    case 'A':
      return resolver.resolve4(name);
    case 'AAAA':
      return resolver.resolve6(name);
    case 'CNAME':
      return resolver.resolveCname(name);
    case 'NS':
      return resolver.resolveNs(name);
    case 'MX':
      return (await resolver.resolveMx(name)).map((r) => r.exchange);
    case 'SRV':
      return (await resolver.resolveSrv(name)).map((r) => `${r.name}:${r.port}`);
    case 'TXT':
      return (await resolver.resolveTxt(name)).map((chunks) => chunks.join(''));
  }
}

/** Names compare without case or a trailing dot; addresses as written. */
const normal = (s: string): string => s.toLowerCase().replace(/\.$/, '');

export async function runDns(instance: DnsInstance, ctx: RunContext): Promise<RunOutcome> {
  const type = instance.record_type ?? 'A';
  const what = `${type} ${instance.name}`;
  const resolver = new Resolver({ timeout: Math.max(1, ctx.timeoutMs), tries: 1 });
  const onAbort = (): void => resolver.cancel();
  ctx.signal.addEventListener('abort', onAbort, { once: true });
  const started = ctx.clock.now();
  let answers: string[];
  try {
    if (instance.server !== undefined) resolver.setServers([await serverAddress(instance.server)]);
    answers = await resolve(resolver, instance.name, type);
  } catch (err) {
    if (ctx.signal.aborted) throw ctx.signal.reason;
    const code = (err as NodeJS.ErrnoException).code;
    const metrics = { answers: 0, resolve_ms: ctx.clock.now() - started };
    if (code === 'ENOTFOUND') {
      return { status: 'critical', message: `${what}: NXDOMAIN`, metrics };
    }
    if (code === 'ENODATA') {
      return { status: 'critical', message: `${what}: no ${type} records`, metrics };
    }
    return { status: 'critical', message: `${what}: ${messageOf(err)}`, metrics };
  } finally {
    ctx.signal.removeEventListener('abort', onAbort);
  }
  const metrics = { answers: answers.length, resolve_ms: ctx.clock.now() - started };
  const got = new Set(answers.map(normal));
  const missing = (instance.expect ?? []).filter((e) => !got.has(normal(e)));
  if (missing.length > 0) {
    return {
      status: 'critical',
      message: `${what}: expected ${missing.join(', ')}, got ${answers.join(', ') || 'nothing'}`,
      metrics,
    };
  }
  return { status: 'ok', message: '', metrics };
}
