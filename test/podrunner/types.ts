/**
 * The parts of the Kubernetes objects the pod runner reads and writes, as their JSON shapes.
 * Deliberately structural (not @kubernetes/client-node's classes): the pure modules stay
 * free of the client, and unit tests build pods as plain objects.
 */

export type RestartPolicy = 'Always' | 'OnFailure' | 'Never';
export type PodPhase = 'Pending' | 'Running' | 'Succeeded' | 'Failed' | 'Unknown';

export interface ObjectMeta {
  name: string;
  namespace?: string;
  uid?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  /** A string in JSON, a Date when the client deserialised it: only its presence matters. */
  deletionTimestamp?: string | Date;
  deletionGracePeriodSeconds?: number;
}

export interface LocalObjectRef {
  name: string;
  optional?: boolean;
}

export interface KeySelector extends LocalObjectRef {
  key: string;
}

export interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: {
    fieldRef?: { fieldPath: string; apiVersion?: string };
    secretKeyRef?: KeySelector;
    configMapKeyRef?: KeySelector;
    resourceFieldRef?: { resource: string; containerName?: string };
  };
}

export interface EnvFromSource {
  prefix?: string;
  configMapRef?: LocalObjectRef;
  secretRef?: LocalObjectRef;
}

export interface VolumeMount {
  name: string;
  mountPath: string;
  subPath?: string;
  readOnly?: boolean;
}

export interface Container {
  name: string;
  image?: string;
  command?: string[];
  args?: string[];
  env?: EnvVar[];
  envFrom?: EnvFromSource[];
  volumeMounts?: VolumeMount[];
  workingDir?: string;
  /** `Always` on an init container makes it a native sidecar (not supported by the runner). */
  restartPolicy?: string;
  terminationMessagePolicy?: 'File' | 'FallbackToLogsOnError';
}

export interface KeyToPath {
  key: string;
  path: string;
  mode?: number;
}

export interface DownwardApiFile {
  path: string;
  fieldRef?: { fieldPath: string };
  resourceFieldRef?: { resource: string };
  mode?: number;
}

export interface ProjectionSource {
  secret?: { name: string; items?: KeyToPath[]; optional?: boolean };
  configMap?: { name: string; items?: KeyToPath[]; optional?: boolean };
  downwardAPI?: { items?: DownwardApiFile[] };
  serviceAccountToken?: { path: string; audience?: string; expirationSeconds?: number };
}

export interface Volume {
  name: string;
  emptyDir?: object;
  hostPath?: { path: string; type?: string };
  secret?: { secretName?: string; items?: KeyToPath[]; defaultMode?: number; optional?: boolean };
  configMap?: { name?: string; items?: KeyToPath[]; defaultMode?: number; optional?: boolean };
  projected?: { sources?: ProjectionSource[]; defaultMode?: number };
  downwardAPI?: { items?: DownwardApiFile[]; defaultMode?: number };
}

export interface PodSpec {
  nodeName?: string;
  containers: Container[];
  initContainers?: Container[];
  volumes?: Volume[];
  restartPolicy?: RestartPolicy;
  hostNetwork?: boolean;
  serviceAccountName?: string;
  terminationGracePeriodSeconds?: number;
}

export interface PodCondition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason?: string;
  message?: string;
  lastTransitionTime?: string | Date;
  lastProbeTime?: string | Date | null;
}

export interface PodStatus {
  phase?: PodPhase;
  podIP?: string;
  hostIP?: string;
  conditions?: PodCondition[];
  containerStatuses?: object[];
  initContainerStatuses?: object[];
  startTime?: string | Date;
}

export interface Pod {
  metadata: ObjectMeta;
  spec: PodSpec;
  status?: PodStatus;
}

export interface Secret {
  metadata: ObjectMeta;
  /** base64, as the API serves it. */
  data?: Record<string, string>;
}

export interface ConfigMap {
  metadata: ObjectMeta;
  data?: Record<string, string>;
  /** base64. */
  binaryData?: Record<string, string>;
}

/** `namespace/name`, the key the runner keeps pods under. */
export const podKey = (pod: { metadata: ObjectMeta }): string =>
  `${pod.metadata.namespace ?? ''}/${pod.metadata.name}`;

/** Kubernetes timestamps: RFC 3339, whole seconds. */
export const rfc3339 = (ms: number): string => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
