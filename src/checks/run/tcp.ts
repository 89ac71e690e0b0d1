/** `tcp`: how long a TCP connect takes; refused, unreachable or too slow are findings. */
import { Socket } from 'node:net';
import { messageOf } from '../../core/errors.js';
import type { TcpInstance } from '../instances.js';
import { outcomeOf, type Finding, type RunContext, type RunOutcome } from './types.js';

/** `host:port`, with brackets around an IPv6 address. */
export function hostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

function connect(host: string, port: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = new Socket();
    const onAbort = (): void => {
      socket.destroy();
      reject(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
    };
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    socket.once('connect', () => {
      signal.removeEventListener('abort', onAbort);
      socket.destroy();
      resolve();
    });
    socket.once('error', (err) => {
      signal.removeEventListener('abort', onAbort);
      socket.destroy();
      reject(err);
    });
    socket.connect({ host, port });
  });
}

export async function runTcp(instance: TcpInstance, ctx: RunContext): Promise<RunOutcome> {
  const target = hostPort(instance.host, instance.port);
  const started = ctx.clock.now();
  try {
    await connect(instance.host, instance.port, ctx.signal);
  } catch (err) {
    if (ctx.signal.aborted) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ECONNREFUSED' ? 'connection refused' : messageOf(err);
    return { status: 'critical', message: `${target}: ${why}`, metrics: {} };
  }
  const connectMs = ctx.clock.now() - started;
  const findings: Finding[] = [];
  if (instance.latency_warning_ms !== undefined && connectMs > instance.latency_warning_ms) {
    findings.push({
      status: 'warning',
      message: `${target}: connect took ${connectMs} ms, over ${instance.latency_warning_ms} ms`,
    });
  }
  return outcomeOf(findings, { connect_ms: connectMs });
}
