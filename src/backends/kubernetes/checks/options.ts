/**
 * What `fathom gen checks` and `fathom checks up` take for Kubernetes, checked once at the edge
 * (flag text in, a frozen spec out) so the manifests are built from valid values only.
 */
import { parseDuration } from '../../../core/duration.js';
import { FathomError } from '../../../core/errors.js';
import { DEFAULT_IMAGE } from '../names.js';
import type { ImagePullPolicy } from '../runconfig.js';
import { dispatcherUrl } from './names.js';

export const CHECK_STRATEGIES = ['count', 'busyness', 'utilization', 'hashing'] as const;
export type ChecksStrategy = (typeof CHECK_STRATEGIES)[number];

export const TAINT_EFFECTS = ['NoSchedule', 'PreferNoSchedule', 'NoExecute'] as const;

export interface Toleration {
  readonly key: string;
  readonly operator: 'Equal' | 'Exists';
  readonly value?: string;
  readonly effect?: (typeof TAINT_EFFECTS)[number];
}

/** Duration flags handed to the processes as given (after checking they parse). */
export const DISPATCHER_DURATIONS = ['node-expiration', 'warmup', 'rebalance-period'] as const;
export const AGENT_DURATIONS = ['poll'] as const;
type DurationFlag = (typeof DISPATCHER_DURATIONS)[number] | (typeof AGENT_DURATIONS)[number];

export interface KubeChecksSpec {
  readonly namespace: string;
  readonly image: string;
  readonly imagePullPolicy: ImagePullPolicy;
  readonly replicas: number;
  readonly strategy?: ChecksStrategy;
  readonly durations: Readonly<Partial<Record<DurationFlag, string>>>;
  /** Where agents run (none: every node the tolerations allow). */
  readonly nodeSelector: Readonly<Record<string, string>>;
  /** Where the dispatcher replicas run. */
  readonly dispatcherNodeSelector: Readonly<Record<string, string>>;
  /** The agents' tolerations; absent: every taint is tolerated, as a node agent should be. */
  readonly tolerations?: readonly Toleration[];
  /** What agents dial: the Service's name by default. */
  readonly dispatcherUrl: string;
}

/** The flags as commander hands them over (strings; repeatable ones as lists). */
export interface RawChecksOptions {
  readonly namespace?: string;
  readonly image?: string;
  readonly imagePullPolicy?: string;
  readonly replicas?: string | number;
  readonly strategy?: string;
  readonly nodeExpiration?: string;
  readonly warmup?: string;
  readonly rebalancePeriod?: string;
  readonly poll?: string;
  readonly nodeSelector?: readonly string[];
  readonly dispatcherNodeSelector?: readonly string[];
  readonly toleration?: readonly string[];
  readonly dispatcherUrl?: string;
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const LABEL_NAME = /^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const LABEL_PREFIX = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/;

export function bad(flag: string, message: string, value: string): FathomError {
  return new FathomError('FATHOM_BAD_FLAG_VALUE', `${flag}: ${message}, got "${value}"`, {
    details: { flag, value },
  });
}

export function isLabelKey(key: string): boolean {
  const slash = key.lastIndexOf('/');
  if (slash < 0) return LABEL_NAME.test(key);
  return LABEL_PREFIX.test(key.slice(0, slash)) && LABEL_NAME.test(key.slice(slash + 1));
}

const isLabelValue = (v: string): boolean => v === '' || LABEL_NAME.test(v);

/** `k=v` entries into one map (the last of a key wins). */
export function parseSelector(flag: string, entries: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const entry of entries) {
    const eq = entry.indexOf('=');
    const key = eq < 0 ? entry : entry.slice(0, eq);
    const value = eq < 0 ? '' : entry.slice(eq + 1);
    if (eq < 0 || !isLabelKey(key) || !isLabelValue(value)) {
      throw bad(flag, 'expected key=value with a label key and value', entry);
    }
    out[key] = value;
  }
  return out;
}

/** kubectl taint's spelling: `key[=value][:Effect]`; without a value the key is matched by Exists. */
export function parseToleration(text: string): Toleration {
  const flag = '--toleration';
  const colon = text.lastIndexOf(':');
  const head = colon < 0 ? text : text.slice(0, colon);
  const effect = colon < 0 ? undefined : text.slice(colon + 1);
  if (effect !== undefined && !(TAINT_EFFECTS as readonly string[]).includes(effect)) {
    throw bad(flag, `the effect must be one of ${TAINT_EFFECTS.join(', ')}`, text);
  }
  const eq = head.indexOf('=');
  const key = eq < 0 ? head : head.slice(0, eq);
  const value = eq < 0 ? undefined : head.slice(eq + 1);
  if (!isLabelKey(key) || (value !== undefined && !isLabelValue(value))) {
    throw bad(flag, 'expected key[=value][:effect] with a label key and value', text);
  }
  const e = effect as Toleration['effect'];
  return value === undefined
    ? { key, operator: 'Exists', ...(e ? { effect: e } : {}) }
    : { key, operator: 'Equal', value, ...(e ? { effect: e } : {}) };
}

/** `--replicas`: 2 unless given, at most 100. */
export function replicasOf(raw: string | number | undefined): number {
  if (raw === undefined) return 2;
  const text = String(raw);
  if (!/^\d+$/.test(text) || Number(text) < 1 || Number(text) > 100) {
    throw bad('--replicas', 'expected a whole number from 1 to 100', text);
  }
  return Number(text);
}

const IMAGE_PULL_POLICIES: readonly ImagePullPolicy[] = ['Always', 'IfNotPresent', 'Never'];

/** `--image-pull-policy`: IfNotPresent unless given. */
export function pullPolicyOf(raw: string | undefined): ImagePullPolicy {
  const pull = raw ?? 'IfNotPresent';
  if (!(IMAGE_PULL_POLICIES as readonly string[]).includes(pull)) {
    throw bad('--image-pull-policy', `expected one of ${IMAGE_PULL_POLICIES.join(', ')}`, pull);
  }
  return pull as ImagePullPolicy;
}

/** Checks every flag; the first bad one is a FATHOM_BAD_FLAG_VALUE naming it. */
export function checksSpec(raw: RawChecksOptions): KubeChecksSpec {
  // Not `fathom`, the runs' default: deleting a run may delete the namespace it created.
  const namespace = raw.namespace ?? 'fathom-checks';
  if (!DNS_LABEL.test(namespace)) {
    throw bad('--namespace', 'expected a DNS label (lower-case letters, digits, -)', namespace);
  }
  const pull = pullPolicyOf(raw.imagePullPolicy);
  const strategy = raw.strategy;
  if (strategy !== undefined && !(CHECK_STRATEGIES as readonly string[]).includes(strategy)) {
    throw bad('--strategy', `expected one of ${CHECK_STRATEGIES.join(', ')}`, strategy);
  }
  const given: Record<DurationFlag, string | undefined> = {
    'node-expiration': raw.nodeExpiration,
    warmup: raw.warmup,
    'rebalance-period': raw.rebalancePeriod,
    poll: raw.poll,
  };
  const durations: Partial<Record<DurationFlag, string>> = {};
  for (const [flag, text] of Object.entries(given) as [DurationFlag, string | undefined][]) {
    if (text === undefined) continue;
    parseDuration(text, `--${flag}`);
    durations[flag] = text.trim();
  }
  if (raw.dispatcherUrl !== undefined && !/^https:\/\/[^/\s]+$/.test(raw.dispatcherUrl)) {
    throw bad('--dispatcher-url', 'expected https://host:port', raw.dispatcherUrl);
  }
  const spec: KubeChecksSpec = {
    namespace,
    image: raw.image ?? DEFAULT_IMAGE,
    imagePullPolicy: pull,
    replicas: replicasOf(raw.replicas),
    ...(strategy ? { strategy: strategy as ChecksStrategy } : {}),
    durations: Object.freeze(durations),
    nodeSelector: Object.freeze(parseSelector('--node-selector', raw.nodeSelector ?? [])),
    dispatcherNodeSelector: Object.freeze(
      parseSelector('--dispatcher-node-selector', raw.dispatcherNodeSelector ?? []),
    ),
    ...(raw.toleration?.length
      ? { tolerations: Object.freeze(raw.toleration.map(parseToleration)) }
      : {}),
    dispatcherUrl: raw.dispatcherUrl ?? dispatcherUrl(namespace),
  };
  return Object.freeze(spec);
}
