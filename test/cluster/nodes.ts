/**
 * The simulated nodes: pools of kwok nodes with labels, zones and taints. Pure: turns a node
 * count and pool specs into Node manifests, and parses the CLI's `--pool` syntax.
 */

export type TaintEffect = 'NoSchedule' | 'PreferNoSchedule' | 'NoExecute';

export interface Taint {
  key: string;
  value?: string;
  effect: TaintEffect;
}

export interface NodePool {
  /** DNS label; the nodes are named `kwok-<pool>-<i>`. */
  name: string;
  count: number;
  labels?: Record<string, string>;
  taints?: Taint[];
}

/** The annotation kwok is told to select on: only nodes carrying it are simulated. */
export const KWOK_ANNOTATION = { key: 'kwok.x-k8s.io/node', value: 'fake' } as const;
/** Labels every simulated node carries (besides the pool's own). */
export const KWOK_TYPE_LABEL = { key: 'type', value: 'kwok' } as const;
export const POOL_LABEL = 'fathom.test/pool';
export const ZONE_LABEL = 'topology.kubernetes.io/zone';
export const ZONES = ['zone-a', 'zone-b', 'zone-c'] as const;
export const DEFAULT_POOL = 'default';

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const EFFECTS: readonly TaintEffect[] = ['NoSchedule', 'PreferNoSchedule', 'NoExecute'];

/**
 * The pools to create: the given ones, then a `default` pool with the rest of `nodes`.
 * `nodes` is the total; pools may not ask for more than that.
 */
export function resolvePools(nodes: number, pools: readonly NodePool[] = []): NodePool[] {
  if (!Number.isInteger(nodes) || nodes < 0)
    throw new Error(`nodes must be a whole number ≥ 0, got ${nodes}`);
  const seen = new Set<string>();
  let used = 0;
  for (const p of pools) {
    if (!DNS_LABEL.test(p.name)) throw new Error(`pool name "${p.name}" is not a DNS label`);
    if (seen.has(p.name)) throw new Error(`pool "${p.name}" is given twice`);
    if (!Number.isInteger(p.count) || p.count < 0)
      throw new Error(`pool "${p.name}": count must be a whole number ≥ 0`);
    seen.add(p.name);
    used += p.count;
  }
  if (used > nodes) throw new Error(`the pools ask for ${used} nodes but nodes is ${nodes}`);
  const rest = nodes - used;
  if (rest === 0) return [...pools];
  const existing = pools.find((p) => p.name === DEFAULT_POOL);
  if (existing)
    throw new Error(
      `nodes (${nodes}) is more than the pools hold (${used}) and pool "${DEFAULT_POOL}" is given`,
    );
  return [...pools, { name: DEFAULT_POOL, count: rest }];
}

/** Node objects for the pools; zones go round-robin over the whole cluster. */
export function nodeManifests(pools: readonly NodePool[], kubeletVersion = 'fake'): object[] {
  const out: object[] = [];
  let index = 0;
  for (const pool of pools) {
    for (let i = 0; i < pool.count; i++, index++) {
      const name = `kwok-${pool.name}-${i}`;
      const resources = { cpu: '32', memory: '256Gi', pods: '110', 'ephemeral-storage': '100Gi' };
      out.push({
        apiVersion: 'v1',
        kind: 'Node',
        metadata: {
          name,
          annotations: {
            [KWOK_ANNOTATION.key]: KWOK_ANNOTATION.value,
            'node.alpha.kubernetes.io/ttl': '0',
          },
          labels: {
            ...pool.labels,
            [KWOK_TYPE_LABEL.key]: KWOK_TYPE_LABEL.value,
            [POOL_LABEL]: pool.name,
            [ZONE_LABEL]: ZONES[index % ZONES.length],
            'kubernetes.io/hostname': name,
            'kubernetes.io/os': 'linux',
            'kubernetes.io/arch': 'amd64',
            'kubernetes.io/role': 'agent',
            'node-role.kubernetes.io/agent': '',
          },
        },
        spec: pool.taints?.length ? { taints: pool.taints.map((t) => ({ ...t })) } : {},
        status: {
          allocatable: resources,
          capacity: resources,
          nodeInfo: {
            architecture: 'amd64',
            operatingSystem: 'linux',
            kubeletVersion,
            kubeProxyVersion: kubeletVersion,
            containerRuntimeVersion: 'kwok',
            bootID: '',
            kernelVersion: '',
            machineID: '',
            osImage: '',
            systemUUID: '',
          },
          phase: 'Running',
        },
      });
    }
  }
  return out;
}

/**
 * Parses `name=count[,key=value...][,taint:key[=value]:Effect...]`, e.g.
 * `gpu=2,accelerator=a100,taint:gpu=true:NoSchedule`.
 */
export function parsePoolSpec(spec: string): NodePool {
  const [head, ...rest] = spec.split(',');
  const m = /^([^=]+)=(\d+)$/.exec(head ?? '');
  if (!m)
    throw new Error(`--pool "${spec}": expected name=count[,key=value][,taint:key=value:Effect]`);
  const pool: NodePool = { name: m[1]!, count: Number(m[2]) };
  for (const part of rest) {
    if (part.startsWith('taint:')) {
      const t = /^taint:([^=:]+)(?:=([^:]*))?:([A-Za-z]+)$/.exec(part);
      if (!t || !EFFECTS.includes(t[3] as TaintEffect))
        throw new Error(
          `--pool "${spec}": taint "${part}" is not taint:key[=value]:${EFFECTS.join('|')}`,
        );
      (pool.taints ??= []).push({
        key: t[1]!,
        ...(t[2] ? { value: t[2] } : {}),
        effect: t[3] as TaintEffect,
      });
      continue;
    }
    const eq = part.indexOf('=');
    if (eq <= 0) throw new Error(`--pool "${spec}": label "${part}" is not key=value`);
    (pool.labels ??= {})[part.slice(0, eq)] = part.slice(eq + 1);
  }
  return pool;
}

/** True when the node's Ready condition is True. */
export function nodeIsReady(node: {
  status?: { conditions?: { type: string; status: string }[] };
}): boolean {
  return node.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
}
