/**
 * What `fathom gen sessions` takes, checked once at the edge (flag text in, a frozen spec out)
 * so the manifests are built from valid values only.
 */
import { defaultPoolLabel } from '../../../sessions/index.js';
import {
  bad,
  isLabelKey,
  parseSelector,
  parseToleration,
  pullPolicyOf,
  replicasOf,
  type Toleration,
} from '../checks/options.js';
import { DEFAULT_IMAGE } from '../names.js';
import { DEFAULT_SESSIONS_NAMESPACE } from './names.js';
import type { ImagePullPolicy } from '../runconfig.js';

export { DEFAULT_SESSIONS_NAMESPACE };

export interface KubeSessionsSpec {
  readonly namespace: string;
  readonly image: string;
  readonly imagePullPolicy: ImagePullPolicy;
  /** Controller replicas; one leads. */
  readonly replicas: number;
  /** Sessions running at once. */
  readonly executors: number;
  /** The node label whose value names a pool. */
  readonly poolLabel: string;
  /** Where the controller replicas run. */
  readonly nodeSelector: Readonly<Record<string, string>>;
  readonly tolerations?: readonly Toleration[];
}

/** The flags as commander hands them over (strings; repeatable ones as lists). */
export interface RawSessionsOptions {
  readonly namespace?: string;
  readonly image?: string;
  readonly imagePullPolicy?: string;
  readonly replicas?: string | number;
  readonly executors?: string | number;
  readonly poolLabel?: string;
  readonly nodeSelector?: readonly string[];
  readonly toleration?: readonly string[];
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const MAX_EXECUTORS = 1000;

function executorsOf(raw: string | number | undefined): number {
  if (raw === undefined) return 2;
  const text = String(raw);
  if (!/^\d+$/.test(text) || Number(text) < 1 || Number(text) > MAX_EXECUTORS) {
    throw bad('--executors', `expected a whole number from 1 to ${MAX_EXECUTORS}`, text);
  }
  return Number(text);
}

/** Checks every flag; the first bad one is a FATHOM_BAD_FLAG_VALUE naming it. */
export function sessionsSpec(raw: RawSessionsOptions): KubeSessionsSpec {
  const namespace = raw.namespace ?? DEFAULT_SESSIONS_NAMESPACE;
  if (!DNS_LABEL.test(namespace)) {
    throw bad('--namespace', 'expected a DNS label (lower-case letters, digits, -)', namespace);
  }
  const poolLabel = raw.poolLabel ?? defaultPoolLabel;
  if (!isLabelKey(poolLabel)) throw bad('--pool-label', 'expected a label key', poolLabel);
  if (raw.image !== undefined && raw.image.trim() === '') {
    throw bad('--image', 'expected an image reference', raw.image);
  }
  const spec: KubeSessionsSpec = {
    namespace,
    image: raw.image ?? DEFAULT_IMAGE,
    imagePullPolicy: pullPolicyOf(raw.imagePullPolicy),
    replicas: replicasOf(raw.replicas),
    executors: executorsOf(raw.executors),
    poolLabel,
    nodeSelector: Object.freeze(parseSelector('--node-selector', raw.nodeSelector ?? [])),
    ...(raw.toleration?.length
      ? { tolerations: Object.freeze(raw.toleration.map(parseToleration)) }
      : {}),
  };
  return Object.freeze(spec);
}
