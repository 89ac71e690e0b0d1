/**
 * The runner's own Node objects: labels, a Ready condition and a Lease in kube-node-lease,
 * both kept fresh by a heartbeat on the injected clock so the node lifecycle controller
 * never marks the nodes NotReady. Manifests are pure; `heartbeat` is the loop.
 */
import type { Clock } from '../../src/core/clock.js';
import { rfc3339 } from './types.js';

/** Every runner node carries `fathom.test/runner=true`: select it to run a pod for real. */
export const RUNNER_LABEL = 'fathom.test/runner';
export const NODE_LEASE_NAMESPACE = 'kube-node-lease';
export const LEASE_SECONDS = 40;

export interface RunnerTaint {
  key: string;
  value?: string;
  effect: 'NoSchedule' | 'PreferNoSchedule' | 'NoExecute';
}

/** A Lease's renewTime: RFC 3339 with exactly six fractional digits (metav1.MicroTime). */
export const microTime = (ms: number): string =>
  new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');

/** The node conditions of a healthy kubelet; `since` is when Ready became True. */
export function nodeConditions(now: number, since: number): object[] {
  const cond = (type: string, status: string, reason: string, message: string): object => ({
    type,
    status,
    reason,
    message,
    lastHeartbeatTime: rfc3339(now),
    lastTransitionTime: rfc3339(since),
  });
  return [
    cond(
      'MemoryPressure',
      'False',
      'KubeletHasSufficientMemory',
      'kubelet has sufficient memory available',
    ),
    cond('DiskPressure', 'False', 'KubeletHasNoDiskPressure', 'kubelet has no disk pressure'),
    cond('PIDPressure', 'False', 'KubeletHasSufficientPID', 'kubelet has sufficient PID available'),
    cond('Ready', 'True', 'KubeletReady', 'kubelet is posting ready status'),
  ];
}

/** The status a runner node reports: Ready, its loopback address, room for many pods. */
export function nodeStatus(
  ip: string,
  now: number,
  since: number,
  kubeletPort = 10250,
  kubeletHost?: string,
): object {
  const resources = { cpu: '16', memory: '64Gi', pods: '250', 'ephemeral-storage': '100Gi' };
  return {
    capacity: resources,
    allocatable: resources,
    conditions: nodeConditions(now, since),
    // The API server tries a Hostname address first: there only when the kubelet endpoint is
    // not on the node IP (the node proxy refuses loopback addresses).
    addresses: [
      ...(kubeletHost ? [{ type: 'Hostname', address: kubeletHost }] : []),
      { type: 'InternalIP', address: ip },
    ],
    // Where the API server proxies pods/log to (logs.ts).
    daemonEndpoints: { kubeletEndpoint: { Port: kubeletPort } },
    nodeInfo: {
      architecture: process.arch === 'arm64' ? 'arm64' : 'amd64',
      operatingSystem: 'linux',
      kubeletVersion: 'v0.0.0-fathom-podrunner',
      kubeProxyVersion: '',
      containerRuntimeVersion: 'podrunner://local-processes',
      bootID: '',
      kernelVersion: '',
      machineID: '',
      osImage: 'fathom test pod runner',
      systemUUID: '',
    },
  };
}

export interface NodeManifestOptions {
  readonly labels?: Readonly<Record<string, string>>;
  /** The port of the node's containerLogs endpoint. */
  readonly kubeletPort?: number;
  /** Where that endpoint listens when not on the node IP (named as the Hostname address). */
  readonly kubeletHost?: string;
  readonly taints?: readonly RunnerTaint[];
}

/** A runner Node object (status included, as a kubelet registers it). */
export function runnerNodeManifest(
  name: string,
  ip: string,
  now: number,
  options: NodeManifestOptions = {},
): { apiVersion: string; kind: string; metadata: object; spec: object; status: object } {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name,
      labels: {
        ...options.labels,
        [RUNNER_LABEL]: 'true',
        'kubernetes.io/hostname': name,
        'kubernetes.io/os': 'linux',
        'kubernetes.io/arch': process.arch === 'arm64' ? 'arm64' : 'amd64',
      },
      annotations: { 'node.alpha.kubernetes.io/ttl': '0' },
    },
    spec: options.taints?.length ? { taints: options.taints.map((t) => ({ ...t })) } : {},
    status: nodeStatus(ip, now, now, options.kubeletPort, options.kubeletHost),
  };
}

/** The node's Lease, owned by the Node so that deleting the node removes it too. */
export function leaseManifest(node: string, nodeUid: string | undefined, now: number): object {
  return {
    apiVersion: 'coordination.k8s.io/v1',
    kind: 'Lease',
    metadata: {
      name: node,
      namespace: NODE_LEASE_NAMESPACE,
      ...(nodeUid
        ? { ownerReferences: [{ apiVersion: 'v1', kind: 'Node', name: node, uid: nodeUid }] }
        : {}),
    },
    spec: { holderIdentity: node, leaseDurationSeconds: LEASE_SECONDS, renewTime: microTime(now) },
  };
}

/** Calls `beat` every `intervalMs` on `clock` until `signal` aborts; `beat` handles its own errors. */
export async function heartbeat(
  clock: Clock,
  intervalMs: number,
  signal: AbortSignal,
  beat: () => Promise<void>,
): Promise<void> {
  while (!signal.aborted) {
    try {
      await clock.sleep(intervalMs, signal);
    } catch {
      return;
    }
    await beat();
  }
}
