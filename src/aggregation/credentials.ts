/**
 * The run's certificates over time: how long they are valid (from the run's timeout), when they
 * are renewed, and the renewal itself. The CA is renewed with the same key, so certificates
 * issued before and after a renewal verify under either CA certificate.
 */
import type { Logger } from 'pino';
import type { Clock } from '../core/clock.js';
import { messageOf } from '../core/errors.js';
import { createRunCa, type KeyPair, type RunCa, type Validity } from '../core/pki.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

/** Beyond the plugins' timeouts: launches (not timed), the worker's upload retries, clock skew. */
export const VALIDITY_MARGIN_MS = HOUR;
/** A run without a timeout gets a day at a time and is renewed before it runs out. */
export const NO_TIMEOUT_VALIDITY_MS = 24 * HOUR;
/** A year at most in one certificate: longer runs are renewed like runs without a timeout. */
export const MAX_VALIDITY_MS = 365 * 24 * HOUR;
/** Renewal happens this long before expiry at most: time for a Secret volume to refresh. */
export const MAX_RENEW_AHEAD_MS = 30 * MINUTE;
/** How soon a renewal that failed for a plugin is tried again. */
export const RENEW_RETRY_MS = MINUTE;

/** How long the run's certificates are valid and how long before expiry they are renewed. */
export interface CredentialPlan {
  readonly validForMs: number;
  readonly renewAheadMs: number;
  /** Whether the run may outlive one validity: no timeout, or a plan beyond the cap. */
  readonly renews: boolean;
}

/**
 * Groups of plugins run one after another, each up to `timeoutMs` once launched, so a run lasts
 * about timeout × groups; the margin covers what the timeouts do not (launches, retries, skew).
 * Such a run is not renewed. A run without a timeout gets a day and is renewed a third of the
 * validity before expiry, at most 30 minutes: time for the kubelet to refresh a Secret volume.
 */
export function credentialPlan(timeoutMs: number, groups: number): CredentialPlan {
  const planned =
    timeoutMs > 0 ? timeoutMs * Math.max(1, groups) + VALIDITY_MARGIN_MS : NO_TIMEOUT_VALIDITY_MS;
  const validForMs = Math.min(planned, MAX_VALIDITY_MS);
  return {
    validForMs,
    renewAheadMs: Math.min(Math.floor(validForMs / 3), MAX_RENEW_AHEAD_MS),
    renews: timeoutMs <= 0 || planned > MAX_VALIDITY_MS,
  };
}

/** When certificates issued at `issuedAt` under `plan` are due for renewal. */
export function renewalDueAt(issuedAt: number, plan: CredentialPlan): number {
  return issuedAt + plan.validForMs - plan.renewAheadMs;
}

/** A server's trust (the run CA) and its own pair. */
export interface ServerTls {
  readonly caPem: string;
  readonly certPem: string;
  readonly keyPem: string;
}

/** Where renewed certificates go. */
export interface RenewalTargets {
  /** The aggregation server's new context; connections made after it use it. */
  setServerTls(tls: ServerTls): void;
  /** Rewrites the CA and client pair where the plugin's workers read them. */
  renewClient(plugin: string, material: { caPem: string; clientCert: KeyPair }): Promise<void>;
}

export interface RunCredentialsOptions {
  readonly clock: Clock;
  readonly timeoutMs: number;
  /** How many order groups run one after another. */
  readonly groups: number;
  /** The server certificate's names. */
  readonly hosts: readonly string[];
  readonly logger?: Logger;
  /** A CA to continue with (a restarted aggregator's); renewed at once if it expires too soon. */
  readonly ca?: RunCa;
}

/** The run CA, the server pair and the plugins' client pairs, renewed on the clock. */
export class RunCredentials {
  #ca: RunCa;
  #server: KeyPair;
  #renewAt: number;
  /** Plugins given a client pair; those whose last renewal failed are retried. */
  readonly #plugins = new Set<string>();
  readonly #stale = new Set<string>();

  private constructor(
    private readonly options: RunCredentialsOptions,
    private readonly plan: CredentialPlan,
    ca: RunCa,
    server: KeyPair,
    renewAt: number,
  ) {
    this.#ca = ca;
    this.#server = server;
    this.#renewAt = renewAt;
  }

  static async create(options: RunCredentialsOptions): Promise<RunCredentials> {
    const plan = credentialPlan(options.timeoutMs, options.groups);
    const now = options.clock.now();
    const validity: Validity = { now, validForMs: plan.validForMs };
    let ca = options.ca ?? (await createRunCa(validity));
    // A restored CA may be close to its end: nothing issued now can outlive it.
    if (ca.notAfter - plan.renewAheadMs <= now) ca = await ca.renewed(validity);
    const server = await ca.serverCert(options.hosts, validity);
    const renewAt = Math.min(renewalDueAt(now, plan), ca.notAfter - plan.renewAheadMs);
    return new RunCredentials(options, plan, ca, server, renewAt);
  }

  /** The current CA: what workers trust, and what a restarted aggregator must continue with. */
  get ca(): RunCa {
    return this.#ca;
  }

  get renewAt(): number {
    return this.#renewAt;
  }

  serverTls(): ServerTls {
    return { caPem: this.#ca.caPem, ...this.#server };
  }

  /** A client pair for `plugin`, renewed with the others from now on. */
  clientCert(plugin: string): Promise<KeyPair> {
    this.#plugins.add(plugin);
    return this.#ca.clientCert(plugin, this.#validity());
  }

  /** Renews the CA, the server pair and every plugin's client pair now. */
  async renew(targets: RenewalTargets): Promise<void> {
    const validity = this.#validity();
    const ca = await this.#ca.renewed(validity);
    const server = await ca.serverCert(this.options.hosts, validity);
    this.#ca = ca;
    this.#server = server;
    this.#renewAt = renewalDueAt(validity.now, this.plan);
    targets.setServerTls(this.serverTls());
    for (const plugin of this.#plugins) this.#stale.add(plugin);
    await this.#renewClients(targets);
    this.options.logger?.info(
      { validUntil: new Date(ca.notAfter).toISOString() },
      'certificates renewed',
    );
  }

  /** Renews whenever due until `signal` aborts; failures are logged and retried. */
  async maintain(targets: RenewalTargets, signal: AbortSignal): Promise<void> {
    const { clock, logger } = this.options;
    if (!this.plan.renews) return;
    for (;;) {
      const due = this.#stale.size > 0 ? clock.now() + RENEW_RETRY_MS : this.#renewAt;
      try {
        await clock.sleep(Math.max(0, Math.min(due, this.#renewAt) - clock.now()), signal);
      } catch {
        return; // the run ended
      }
      try {
        if (clock.now() >= this.#renewAt) await this.renew(targets);
        else await this.#renewClients(targets);
      } catch (err) {
        logger?.warn({ error: messageOf(err) }, 'could not renew certificates; retrying');
        await clock.sleep(RENEW_RETRY_MS, signal).catch(() => undefined);
      }
    }
  }

  async #renewClients(targets: RenewalTargets): Promise<void> {
    for (const plugin of [...this.#stale]) {
      try {
        const clientCert = await this.#ca.clientCert(plugin, this.#validity());
        await targets.renewClient(plugin, { caPem: this.#ca.caPem, clientCert });
        this.#stale.delete(plugin);
      } catch (err) {
        this.options.logger?.warn(
          { plugin, error: messageOf(err) },
          'could not renew a client certificate; retrying',
        );
      }
    }
  }

  #validity(): Validity {
    return { now: this.options.clock.now(), validForMs: this.plan.validForMs };
  }
}
