/**
 * Where a test cluster keeps its files and which flags each component gets. Pure: the same
 * layout always gives the same command lines.
 */
import { join } from 'node:path';
import { KWOK_ANNOTATION } from './nodes.js';
import type { Component } from './processes.js';

export const SERVICE_CIDR = '10.96.0.0/16';
/** First address of SERVICE_CIDR: the `kubernetes` Service, so it is in the serving cert. */
export const KUBERNETES_SERVICE_IP = '10.96.0.1';
/** Pod IPs kwok hands out: room for a DaemonSet on 1,000 nodes, clear of the services. */
export const POD_CIDR = '10.224.0.0/12';
export const SERVICE_ACCOUNT_ISSUER = 'https://kubernetes.default.svc.cluster.local';

/** The API users of the cluster: Kubernetes reads the user from CN and the groups from O. */
export const USERS = {
  admin: { user: 'fathom-admin', groups: ['system:masters'] },
  'kube-controller-manager': { user: 'system:kube-controller-manager', groups: [] },
  'kube-scheduler': { user: 'system:kube-scheduler', groups: [] },
  kwok: { user: 'kwok-controller', groups: ['system:masters'] },
} as const;
export type ClusterUser = keyof typeof USERS;

export interface ClusterLayout {
  readonly dir: string;
  readonly ports: { readonly etcd: number; readonly etcdPeer: number; readonly apiserver: number };
  /** The address the apiserver advertises for the `kubernetes` Service. */
  readonly advertise: string;
  /** kwok's Stage objects (from build.sh). */
  readonly kwokStages: string;
}

/** Every path in a cluster dir. */
export function clusterPaths(dir: string) {
  const pki = join(dir, 'pki');
  return {
    pki,
    logs: join(dir, 'logs'),
    etcdData: join(dir, 'etcd'),
    kwokHome: join(dir, 'kwok-home'),
    log: (c: Component) => join(dir, 'logs', `${c}.log`),
    kubeconfig: (u: ClusterUser) => join(dir, `${u}.kubeconfig`),
    caCert: join(pki, 'ca.crt'),
    servingCert: join(pki, 'apiserver.crt'),
    servingKey: join(pki, 'apiserver.key'),
    saPublic: join(pki, 'sa.pub'),
    saPrivate: join(pki, 'sa.key'),
  };
}

/** The DNS names and IPs the apiserver's serving certificate must cover. */
export function servingHosts(layout: ClusterLayout): string[] {
  return [
    '127.0.0.1',
    'localhost',
    ...(layout.advertise === '127.0.0.1' ? [] : [layout.advertise]),
    KUBERNETES_SERVICE_IP,
    'kubernetes',
    'kubernetes.default',
    'kubernetes.default.svc',
    'kubernetes.default.svc.cluster.local',
  ];
}

/** The command line of every component, in start order. */
export function componentArgs(layout: ClusterLayout): Record<Component, string[]> {
  const p = clusterPaths(layout.dir);
  const etcdUrl = `http://127.0.0.1:${layout.ports.etcd}`;
  const peerUrl = `http://127.0.0.1:${layout.ports.etcdPeer}`;
  return {
    etcd: [
      '--name=fathom',
      `--data-dir=${p.etcdData}`,
      `--listen-client-urls=${etcdUrl}`,
      `--advertise-client-urls=${etcdUrl}`,
      `--listen-peer-urls=${peerUrl}`,
      `--initial-advertise-peer-urls=${peerUrl}`,
      `--initial-cluster=fathom=${peerUrl}`,
      '--initial-cluster-state=new',
      '--unsafe-no-fsync=true', // throwaway data: keep a busy CI disk out of the picture
      '--log-level=warn',
    ],
    'kube-apiserver': [
      '--bind-address=127.0.0.1',
      `--secure-port=${layout.ports.apiserver}`,
      `--advertise-address=${layout.advertise}`,
      `--etcd-servers=${etcdUrl}`,
      `--cert-dir=${p.pki}`,
      `--tls-cert-file=${p.servingCert}`,
      `--tls-private-key-file=${p.servingKey}`,
      `--client-ca-file=${p.caCert}`,
      `--service-account-issuer=${SERVICE_ACCOUNT_ISSUER}`,
      `--service-account-key-file=${p.saPublic}`,
      `--service-account-signing-key-file=${p.saPrivate}`,
      `--service-cluster-ip-range=${SERVICE_CIDR}`,
      '--authorization-mode=Node,RBAC',
      '--allow-privileged=true', // plugins such as systemd-logs run privileged
      '--profiling=false',
    ],
    'kube-controller-manager': [
      `--kubeconfig=${p.kubeconfig('kube-controller-manager')}`,
      '--bind-address=127.0.0.1',
      '--secure-port=0', // no serving: readiness is read from the API, and no cert-dir to write
      '--leader-elect=false',
      `--service-account-private-key-file=${p.saPrivate}`,
      `--root-ca-file=${p.caCert}`,
      '--use-service-account-credentials=true',
      '--profiling=false',
    ],
    'kube-scheduler': [
      `--kubeconfig=${p.kubeconfig('kube-scheduler')}`,
      '--bind-address=127.0.0.1',
      '--secure-port=0',
      '--leader-elect=false',
      '--profiling=false',
    ],
    kwok: [
      `--kubeconfig=${p.kubeconfig('kwok')}`,
      `--config=${layout.kwokStages}`,
      // Only annotated nodes: the test pod runner registers real-process nodes of its own.
      '--manage-all-nodes=false',
      `--manage-nodes-with-annotation-selector=${KWOK_ANNOTATION.key}=${KWOK_ANNOTATION.value}`,
      '--node-lease-duration-seconds=40',
      `--cidr=${POD_CIDR}`,
      `--node-ip=${layout.advertise}`,
    ],
  };
}

/** Environment overrides per component (merged over the caller's environment). */
export function componentEnv(layout: ClusterLayout): Partial<Record<Component, NodeJS.ProcessEnv>> {
  // kwok also reads ~/.kwok/kwok.yaml: a HOME of its own keeps the cluster hermetic.
  return { kwok: { HOME: clusterPaths(layout.dir).kwokHome } };
}
