/**
 * A run's side of a pool claim, on any backend (`fathom run --pool NAME`): write the claim to
 * the store the session controller works from, say who holds the pool while it waits, and
 * return the nodes once the controller grants them. The backend brings the store, its view of
 * the pools and how to make sure a controller runs; what marks the run as alive while it waits
 * (a pid file locally, a heartbeat on Kubernetes) stays with the backend (`beat`).
 */
import type { Clock } from '../core/clock.js';
import { FathomError } from '../core/errors.js';
import type { ClaimStore, PoolClaim } from './claims.js';
import { claimLimits } from './claims.js';
import type { PoolUsage } from './reservations.js';

export interface ClaimWaitSite {
  readonly claims: ClaimStore;
  /** Per pool, who holds its nodes now (`fathom pools`). */
  pools(): Promise<readonly PoolUsage[]>;
  /** `absent` when no controller acts (the run then waits until one does). */
  ensureController(): Promise<string>;
}

export interface ClaimWaitRequest {
  readonly run: string;
  readonly pool: { readonly name: string; readonly nodes?: number; readonly priority: number };
  readonly clock: Clock;
  /** One line when the run starts waiting and whenever who holds the pool changes. */
  readonly progress?: (line: string) => void;
  /** Said once when no controller acts. */
  readonly absentWarning?: string;
  readonly signal?: AbortSignal;
  readonly pollMs?: number;
  /** Called on every poll, first before the claim is written: the run is alive. */
  readonly beat?: () => Promise<void>;
}

/** A run's name must fit a holding key (`run--<run>`): checked before anything is written. */
export function checkClaimRunName(run: string): void {
  if (run.length > claimLimits.runName) {
    throw new FathomError(
      'FATHOM_BAD_FLAG_VALUE',
      `--namespace "${run}": a run on a pool needs a name of at most ${claimLimits.runName} characters`,
    );
  }
}

/** Who holds the pool, as the waiting line says it. */
export function waitingLine(pool: string, usage: readonly PoolUsage[]): string {
  const holders = usage
    .find((p) => p.name === pool)
    ?.holders.map((h) => (h.holder.startsWith('run/') ? h.holder : `session ${h.holder}`));
  return `Waiting for the nodes of pool "${pool}"${holders?.length ? `, held by ${holders.join(', ')}` : ''}.`;
}

/**
 * Writes the claim and waits until it is granted; returns the nodes granted. Refused (the pool
 * shrank) or removed meanwhile (`fathom delete`) is FATHOM_POOL_REFUSED; given up (`signal`)
 * is FATHOM_TIMEOUT. On any error the claim is removed.
 */
export async function waitForClaim(
  site: ClaimWaitSite,
  o: ClaimWaitRequest,
): Promise<readonly string[]> {
  checkClaimRunName(o.run);
  const { claims } = site;
  await o.beat?.();
  try {
    const claim: PoolClaim = {
      run: o.run,
      pool: o.pool.name,
      ...(o.pool.nodes !== undefined ? { nodes: o.pool.nodes } : {}),
      priority: o.pool.priority,
      submittedAt: o.clock.now(),
      state: 'Waiting',
    };
    // The caller made the run exclusively: a claim under its name is a dead run's.
    if (!(await claims.create(claim))) {
      await claims.remove(o.run);
      await claims.create(claim);
    }
    let told = '';
    let warned = false;
    let polls = 0;
    for (;;) {
      if ((await site.ensureController()) === 'absent' && !warned && o.absentWarning) {
        o.progress?.(o.absentWarning);
        warned = true;
      }
      const cur = await claims.get(o.run);
      if (cur?.state === 'Granted') return cur.granted ?? [];
      if (!cur || cur.state === 'Refused') {
        throw new FathomError(
          'FATHOM_POOL_REFUSED',
          `--pool ${o.pool.name}: ${cur?.message ?? 'the claim was removed while the run waited'}`,
        );
      }
      const usage = await site.pools();
      const line = waitingLine(o.pool.name, usage);
      const held = usage.find((p) => p.name === o.pool.name)?.holders.length ?? 0;
      // Said once someone holds the pool, or once the controller has had a look; again on change.
      if (line !== told && (held > 0 || polls > 0)) {
        o.progress?.(line);
        told = line;
      }
      polls++;
      try {
        await o.clock.sleep(o.pollMs ?? 200, o.signal);
      } catch (err) {
        throw new FathomError('FATHOM_TIMEOUT', `gave up waiting for pool "${o.pool.name}"`, {
          cause: err,
        });
      }
      await o.beat?.();
    }
  } catch (err) {
    await claims.remove(o.run).catch(() => {});
    throw err;
  }
}
