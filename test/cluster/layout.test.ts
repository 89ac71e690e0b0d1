/**
 * The control plane's wiring agrees with itself: components point at each other's ports and
 * files, kwok selects exactly the nodes we create, address ranges do not collide, and the
 * version pins in go.mod, build.sh and the TypeScript side say the same release.
 */
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { KUBERNETES_VERSION } from './binaries.js';
import {
  KUBERNETES_SERVICE_IP,
  POD_CIDR,
  SERVICE_CIDR,
  USERS,
  clusterPaths,
  componentArgs,
  servingHosts,
} from './layout.js';
import type { ClusterLayout } from './layout.js';
import { nodeManifests } from './nodes.js';

const here = dirname(fileURLToPath(import.meta.url));
const layout: ClusterLayout = {
  dir: '/tmp/fathom-cluster-x',
  ports: { etcd: 2001, etcdPeer: 2002, apiserver: 6001 },
  advertise: '192.0.2.2',
  kwokStages: '/cache/cluster/v/kwok-stages.yaml',
};
const args = componentArgs(layout);

function flag(component: keyof typeof args, name: string): string {
  const hit = args[component].find((a) => a.startsWith(`--${name}=`));
  if (hit === undefined) throw new Error(`${component} has no --${name}`);
  return hit.slice(name.length + 3);
}

function ipv4Range(cidr: string): [number, number] {
  const [ip, bits] = cidr.split('/') as [string, string];
  const base = ip.split('.').reduce((n, o) => n * 256 + Number(o), 0);
  const size = 2 ** (32 - Number(bits));
  return [base, base + size - 1];
}

describe('componentArgs', () => {
  it('points the apiserver at etcd and serves on the chosen port', () => {
    expect(flag('kube-apiserver', 'etcd-servers')).toBe(flag('etcd', 'listen-client-urls'));
    expect(flag('etcd', 'advertise-client-urls')).toBe('http://127.0.0.1:2001');
    expect(flag('kube-apiserver', 'secure-port')).toBe('6001');
    expect(flag('kube-apiserver', 'bind-address')).toBe('127.0.0.1');
  });

  it('keeps every file inside the cluster dir, except the shared kwok stages', () => {
    const files = Object.values(args)
      .flat()
      .map((a) => a.slice(a.indexOf('=') + 1))
      .filter((v) => v.startsWith('/'));
    expect(files.length).toBeGreaterThan(10);
    for (const f of files) {
      if (f === layout.kwokStages) continue;
      expect(f.startsWith(`${layout.dir}/`), f).toBe(true);
    }
  });

  it('gives the token signer and verifiers one key pair, and one CA to everyone', () => {
    const p = clusterPaths(layout.dir);
    expect(flag('kube-apiserver', 'service-account-signing-key-file')).toBe(p.saPrivate);
    expect(flag('kube-apiserver', 'service-account-key-file')).toBe(p.saPublic);
    expect(flag('kube-controller-manager', 'service-account-private-key-file')).toBe(p.saPrivate);
    expect(flag('kube-apiserver', 'client-ca-file')).toBe(p.caCert);
    expect(flag('kube-controller-manager', 'root-ca-file')).toBe(p.caCert);
    expect(flag('kube-apiserver', 'authorization-mode')).toBe('Node,RBAC');
  });

  it('makes kwok manage exactly the nodes nodeManifests creates', () => {
    const [key, value] = flag('kwok', 'manage-nodes-with-annotation-selector').split('=') as [
      string,
      string,
    ];
    expect(flag('kwok', 'manage-all-nodes')).toBe('false');
    const [node] = nodeManifests([{ name: 'p', count: 1 }]) as {
      metadata: { annotations: Record<string, string> };
    }[];
    expect(node!.metadata.annotations[key]).toBe(value);
  });

  it('runs the controllers as the users the bootstrap RBAC roles name', () => {
    expect(USERS['kube-controller-manager'].user).toBe('system:kube-controller-manager');
    expect(USERS['kube-scheduler'].user).toBe('system:kube-scheduler');
    expect(USERS.admin.groups).toContain('system:masters');
    expect(flag('kube-scheduler', 'kubeconfig')).toBe(
      clusterPaths(layout.dir).kubeconfig('kube-scheduler'),
    );
  });
});

describe('address ranges', () => {
  it('keeps pod IPs clear of the service range, with room for 1,000 nodes of DaemonSet pods', () => {
    const [s0, s1] = ipv4Range(SERVICE_CIDR);
    const [p0, p1] = ipv4Range(POD_CIDR);
    expect(p1 < s0 || p0 > s1).toBe(true);
    expect(p1 - p0).toBeGreaterThan(10 * 1000);
  });

  it('puts the kubernetes Service IP (first of the range) and loopback in the serving cert', () => {
    expect(ipv4Range(`${KUBERNETES_SERVICE_IP}/32`)[0]).toBe(ipv4Range(SERVICE_CIDR)[0] + 1);
    const hosts = servingHosts(layout);
    expect(hosts).toEqual(
      expect.arrayContaining([
        '127.0.0.1',
        KUBERNETES_SERVICE_IP,
        layout.advertise,
        'kubernetes.default.svc',
      ]),
    );
    expect(
      servingHosts({ ...layout, advertise: '127.0.0.1' }).filter((h) => h === '127.0.0.1'),
    ).toHaveLength(1);
  });
});

describe('version pins', () => {
  it('go.mod, build.sh and KUBERNETES_VERSION name the same release, staging modules included', async () => {
    const gomod = await readFile(join(here, 'go.mod'), 'utf8');
    const build = await readFile(join(here, 'build.sh'), 'utf8');
    expect(gomod).toMatch(
      new RegExp(`^\\s*k8s\\.io/kubernetes ${KUBERNETES_VERSION.replace(/\./g, '\\.')}\\b`, 'm'),
    );
    expect(build).toContain(`K8S_VERSION="${KUBERNETES_VERSION}"`);
    const staging = `v0.${KUBERNETES_VERSION.split('.').slice(1).join('.')}`; // v1.36.3 -> v0.36.3
    const replaces = [...gomod.matchAll(/^\s*(k8s\.io\/[\w-]+) => (k8s\.io\/[\w-]+) (v\S+)$/gm)];
    expect(replaces.length).toBeGreaterThan(25);
    for (const [, from, to, version] of replaces) {
      expect(to).toBe(from);
      expect(version, from).toBe(staging);
    }
  });
});
