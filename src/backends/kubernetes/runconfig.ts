/** The run's settings as the CLI writes them into the `fathom-config` ConfigMap for the aggregator pod. */
import { FathomError } from '../../core/errors.js';

export type ImagePullPolicy = 'Always' | 'IfNotPresent' | 'Never';

export interface KubeRunConfig {
  readonly uuid: string;
  readonly namespace: string;
  readonly createdAt: string;
  /** Per-plugin result timeout; 0 = none. */
  readonly timeoutMs: number;
  readonly maxResultBytes: number;
  /** fathom's image: the aggregator and every worker sidecar. */
  readonly image: string;
  readonly imagePullPolicy: ImagePullPolicy;
  /** The server's version, given to plugins as SONOBUOY_K8S_VERSION. */
  readonly kubernetesVersion: string;
  readonly uploadPort: number;
  readonly resultsPort: number;
}

export const CONFIG_KEY = 'config.json';

const pullPolicies: readonly string[] = ['Always', 'IfNotPresent', 'Never'];

function field<T>(
  doc: Record<string, unknown>,
  key: string,
  ok: (v: unknown) => boolean,
  what: string,
): T {
  const v = doc[key];
  if (!ok(v)) {
    throw new FathomError('FATHOM_CONFIG_INVALID', `${CONFIG_KEY}: "${key}" must be ${what}`, {
      details: { field: key },
    });
  }
  return v as T;
}

const isString = (v: unknown): boolean => typeof v === 'string' && v !== '';
const isCount = (v: unknown): boolean => typeof v === 'number' && Number.isInteger(v) && v >= 0;
const isPort = (v: unknown): boolean => isCount(v) && (v as number) <= 65_535;

/** Reads and checks the aggregator's config.json. */
export function parseRunConfig(text: string): KubeRunConfig {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (cause) {
    throw new FathomError('FATHOM_CONFIG_INVALID', `${CONFIG_KEY}: not JSON`, { cause });
  }
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) {
    throw new FathomError('FATHOM_CONFIG_INVALID', `${CONFIG_KEY}: not a JSON object`);
  }
  const d = doc as Record<string, unknown>;
  return {
    uuid: field(d, 'uuid', isString, 'a non-empty string'),
    namespace: field(d, 'namespace', isString, 'a non-empty string'),
    createdAt: field(d, 'createdAt', isString, 'a timestamp'),
    timeoutMs: field(d, 'timeoutMs', isCount, 'a whole number of milliseconds'),
    maxResultBytes: field(d, 'maxResultBytes', isCount, 'a whole number of bytes'),
    image: field(d, 'image', isString, 'an image reference'),
    imagePullPolicy: field(
      d,
      'imagePullPolicy',
      (v) => pullPolicies.includes(v as string),
      'Always, IfNotPresent or Never',
    ),
    kubernetesVersion: field(d, 'kubernetesVersion', (v) => typeof v === 'string', 'a string'),
    uploadPort: field(d, 'uploadPort', isPort, 'a TCP port'),
    resultsPort: field(d, 'resultsPort', isPort, 'a TCP port'),
  };
}
