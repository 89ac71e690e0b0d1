/**
 * Running one check instance: the runner of its type, bounded by its timeout, and never a
 * throw. `runCheck` is the only door the scheduler uses.
 */
import { formatDuration } from '../../core/duration.js';
import { messageOf } from '../../core/errors.js';
import type { CheckInstance, CheckType } from '../types.js';
import type {
  CommandInstance,
  DnsInstance,
  HttpInstance,
  KubernetesStatusInstance,
  PluginInstance,
  TcpInstance,
} from '../instances.js';
import { runCommand } from './command.js';
import { runDns } from './dns.js';
import { runHttp } from './http.js';
import { runKubernetesStatus } from './kubernetes-status.js';
import { oneLine } from './message.js';
import { runPlugin } from './plugin.js';
import { runTcp } from './tcp.js';
import type { RunContext, RunOutcome, Runner } from './types.js';

export type { RunContext, RunOutcome, Runner } from './types.js';
export { oneLine } from './message.js';

/** The instance was validated into its type's shape by the config loader. */
const runners: Readonly<Record<CheckType, Runner<CheckInstance>>> = {
  http: (i, c) => runHttp(i as unknown as HttpInstance, c),
  tcp: (i, c) => runTcp(i as unknown as TcpInstance, c),
  dns: (i, c) => runDns(i as unknown as DnsInstance, c),
  command: (i, c) => runCommand(i as unknown as CommandInstance, c),
  'kubernetes-status': (i, c) => runKubernetesStatus(i as unknown as KubernetesStatusInstance, c),
  plugin: (i, c) => runPlugin(i as unknown as PluginInstance, c),
};

function timedOutAfter(ms: number): RunOutcome {
  return { status: 'critical', message: `timed out after ${formatDuration(ms)}`, metrics: {} };
}

/** Runs with a runner table of the caller's (tests); `runCheck` uses the real one. */
export async function runWith(
  table: Readonly<Partial<Record<CheckType, Runner<CheckInstance>>>>,
  type: CheckType,
  instance: CheckInstance,
  ctx: RunContext,
): Promise<RunOutcome> {
  const runner = table[type];
  if (!runner) return { status: 'unknown', message: `unknown check type "${type}"`, metrics: {} };
  const stop = new AbortController();
  let timedOut = false;
  const onOuterAbort = (): void => stop.abort(ctx.signal.reason);
  if (ctx.signal.aborted) onOuterAbort();
  else ctx.signal.addEventListener('abort', onOuterAbort, { once: true });
  const timer = ctx.clock.sleep(ctx.timeoutMs, stop.signal).then(
    () => {
      timedOut = true;
      stop.abort(new Error(`timed out after ${formatDuration(ctx.timeoutMs)}`));
    },
    () => undefined,
  );
  // Settles at the first abort even if a runner ignores its signal: the run is over either way.
  const aborted = new Promise<void>((resolve) => {
    if (stop.signal.aborted) resolve();
    else stop.signal.addEventListener('abort', () => resolve(), { once: true });
  });
  const running = (async () => runner(instance, { ...ctx, signal: stop.signal }))();
  running.catch(() => undefined); // a late rejection after the abort is already answered
  try {
    const outcome = await Promise.race([running, aborted.then(() => undefined)]);
    if (outcome && !stop.signal.aborted) {
      return { ...outcome, message: oneLine(outcome.message) };
    }
    if (timedOut) {
      return timedOutAfter(ctx.timeoutMs);
    }
    return {
      status: 'unknown',
      message: oneLine(`stopped: ${messageOf(stop.signal.reason)}`),
      metrics: {},
    };
  } catch (err) {
    if (timedOut) {
      return timedOutAfter(ctx.timeoutMs);
    }
    return { status: 'unknown', message: oneLine(messageOf(err)), metrics: {} };
  } finally {
    ctx.signal.removeEventListener('abort', onOuterAbort);
    if (!stop.signal.aborted) stop.abort(new Error('run over'));
    await timer;
  }
}

/**
 * One run of one instance of a `type` check: the type's runner with `ctx.signal` plus the
 * timeout. A timeout is `critical` ("timed out after 5s"); a runner that throws or a run
 * stopped from outside is `unknown` with the reason. Never rejects.
 */
export function runCheck(
  type: CheckType,
  instance: CheckInstance,
  ctx: RunContext,
): Promise<RunOutcome> {
  return runWith(runners, type, instance, ctx);
}
