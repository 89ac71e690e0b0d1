/**
 * What a backend does for cluster checks (`fathom checks …`): start the dispatcher replicas and
 * one agent per node, stop them, and reach the replicas' API. The local backend runs detached
 * processes on the embedded cluster's nodes; the Kubernetes backend a Deployment and a
 * DaemonSet. Both run the same `fathom dispatcher` and `fathom agent`.
 */
import type { Strategy } from '../checks/dispatch/placement.js';
import type { IsolateResponse, RebalanceResponse, StateResponse } from '../checks/wire.js';

/** What `checks up` passes to every dispatcher replica and agent. */
export interface ChecksSettings {
  readonly replicas: number;
  readonly nodeExpirationMs: number;
  readonly warmupMs: number;
  readonly unscheduledThresholdMs: number;
  readonly rebalancePeriodMs: number;
  readonly strategy: Strategy;
  readonly minImprovementPercent: number;
  readonly leaseDurationMs: number;
  readonly leaseRenewMs: number;
  readonly pollMs: number;
  readonly workers: number;
}

export interface ChecksUpRequest {
  /** A directory of check config files (absolute); the backend's default when absent. */
  readonly configsDir?: string;
  readonly settings: ChecksSettings;
}

export interface ChecksUpInfo {
  readonly replicas: readonly { readonly name: string; readonly url: string }[];
  readonly agents: readonly { readonly node: string; readonly url?: string }[];
  /** Where check configs are read from. */
  readonly configs: string;
  /** Set when `up` found an install and restarted what had died in it. */
  readonly restarted?: readonly string[];
}

/** One replica as `checks state` sees it: its own state answer, or why there is none. */
export interface ReplicaView {
  readonly name: string;
  readonly url: string;
  readonly state?: StateResponse;
  readonly error?: string;
}

export interface ChecksBackend {
  readonly name: 'local' | 'kubernetes';
  up(request: ChecksUpRequest): Promise<ChecksUpInfo>;
  /** Stops everything `up` started and removes its state; the names of what was stopped. */
  down(): Promise<readonly string[]>;
  /** Every replica's answer to the state GET. */
  replicas(): Promise<readonly ReplicaView[]>;
  /** Through any replica (a follower forwards to the leader). */
  rebalance(force: boolean): Promise<readonly RebalanceResponse[]>;
  isolate(checkId: string): Promise<IsolateResponse>;
}

/** `--name 1500ms` style arguments for a duration in milliseconds. */
export function durationArg(ms: number): string {
  return `${Math.round(ms)}ms`;
}

/** The `fathom dispatcher` flags of the settings (the replica's own address and files aside). */
export function dispatcherSettingsArgs(s: ChecksSettings): string[] {
  return [
    '--node-expiration',
    durationArg(s.nodeExpirationMs),
    '--warmup',
    durationArg(s.warmupMs),
    '--unscheduled-threshold',
    durationArg(s.unscheduledThresholdMs),
    '--rebalance-period',
    durationArg(s.rebalancePeriodMs),
    '--strategy',
    s.strategy,
    '--min-improvement',
    String(s.minImprovementPercent),
    '--lease-duration',
    durationArg(s.leaseDurationMs),
    '--lease-renew',
    durationArg(s.leaseRenewMs),
  ];
}

/** The `fathom agent` flags of the settings. */
export function agentSettingsArgs(s: ChecksSettings): string[] {
  return [
    '--poll',
    durationArg(s.pollMs),
    '--node-expiration',
    durationArg(s.nodeExpirationMs),
    '--workers',
    String(s.workers),
  ];
}
