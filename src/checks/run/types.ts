/** What a runner is given and what it returns: one run of one check instance. */
import type { Clock } from '../../core/clock.js';
import type { ClusterReader } from '../../status/index.js';
import type { CheckStatus } from '../types.js';

/** How one run ended. `message` is one bounded line (see `oneLine`). */
export interface RunOutcome {
  readonly status: CheckStatus;
  readonly message: string;
  readonly metrics: Readonly<Record<string, number>>;
}

export interface RunContext {
  readonly clock: Clock;
  /**
   * Fires when the run must stop: its timeout (runCheck adds it), the instance's removal or
   * the agent's shutdown. Runners stop their sockets and processes on it.
   */
  readonly signal: AbortSignal;
  readonly timeoutMs: number;
  /** kubernetes-status: the cluster the object is read from. */
  readonly statusReader?: ClusterReader;
  /** plugin: a directory owned by this instance, where its last results are kept. */
  readonly workDir?: string;
  /** plugin: the node the agent runs on (`NODE_NAME` for the plugin). */
  readonly node?: string;
}

/** One check type's work. Expected failures are outcomes; a throw means the check itself broke. */
export type Runner<I> = (instance: I, ctx: RunContext) => Promise<RunOutcome>;

const SEVERITY: Readonly<Record<CheckStatus, number>> = {
  ok: 0,
  warning: 1,
  unknown: 2,
  critical: 3,
};

/** The worse of two statuses (critical > unknown > warning > ok). */
export function worse(a: CheckStatus, b: CheckStatus): CheckStatus {
  return SEVERITY[b] > SEVERITY[a] ? b : a;
}

/** A finding of a run: what it would make the status, and why. */
export interface Finding {
  readonly status: Exclude<CheckStatus, 'ok'>;
  readonly message: string;
}

/** The outcome of a run's findings: the worst status, its messages first; ok and '' for none. */
export function outcomeOf(
  findings: readonly Finding[],
  metrics: Record<string, number>,
): RunOutcome {
  let status: CheckStatus = 'ok';
  for (const f of findings) status = worse(status, f.status);
  const ordered = [...findings].sort((a, b) => SEVERITY[b.status] - SEVERITY[a.status]);
  return { status, message: ordered.map((f) => f.message).join('; '), metrics };
}
