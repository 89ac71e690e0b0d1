/**
 * From a Session to what gets placed: one instance per component replica, each a workload of
 * one container on its own node, in provisioning order (servers, then clients, then any other
 * role in the order written, then the driver), and the environment that tells the driver where
 * every server and client listens. Pure.
 */
import { createHash } from 'node:crypto';
import type { WorkloadSpec } from '../core/workload.js';
import type { ComponentKind, Session, SessionComponent } from './types.js';
import { driverKind } from './types.js';

export interface ComponentInstance {
  readonly component: string;
  readonly kind: ComponentKind;
  readonly replica: number;
  readonly pool: string;
  /** Its workload's name: a DNS label, unique per session, component and replica. */
  readonly workload: string;
}

/** 0 servers, 1 clients, 2 other roles, 3 the driver. */
export function provisionRank(kind: ComponentKind): number {
  return kind === 'server' ? 0 : kind === 'client' ? 1 : kind === driverKind ? 3 : 2;
}

/**
 * `<session>-<component>-<replica>`; when that is over 63 characters, its first part cut and
 * an 8-character hash of the whole added, so names stay distinct and valid.
 */
export function workloadName(session: string, component: string, replica: number): string {
  const full = `${session}-${component}-${replica}`;
  if (full.length <= 63) return full;
  const hash = createHash('sha256').update(full).digest('hex').slice(0, 8);
  return `${full.slice(0, 54).replace(/-+$/, '')}-${hash}`;
}

/** Every instance, grouped in provisioning order; a group is placed once the one before is ready. */
export function provisioningGroups(session: Session): ComponentInstance[][] {
  const groups: ComponentInstance[][] = [[], [], [], []];
  for (const c of session.spec.components) {
    for (let replica = 0; replica < c.replicas; replica++) {
      groups[provisionRank(c.kind)]!.push({
        component: c.name,
        kind: c.kind,
        replica,
        pool: c.pool,
        workload: workloadName(session.metadata.name, c.name, replica),
      });
    }
  }
  return groups.filter((g) => g.length > 0);
}

/**
 * What the driver is told: every server's and then every client's `host:port` in
 * `QPS_WORKERS` (the original's variable), and each kind apart in `FATHOM_SERVERS` and
 * `FATHOM_CLIENTS`; comma-separated, in replica order.
 */
export function driverEnv(
  servers: readonly string[],
  clients: readonly string[],
): Record<string, string> {
  return {
    QPS_WORKERS: [...servers, ...clients].join(','),
    FATHOM_SERVERS: servers.join(','),
    FATHOM_CLIENTS: clients.join(','),
  };
}

/**
 * The workload for an instance on the node it was given. fathom's variables are set after the
 * component's own env, so a session cannot mistake where its workers are.
 */
export function workloadFor(
  session: Session,
  instance: ComponentInstance,
  node: string,
  extraEnv: Readonly<Record<string, string>> = {},
): WorkloadSpec {
  const c: SessionComponent | undefined = session.spec.components.find(
    (x) => x.name === instance.component,
  );
  if (!c) throw new Error(`no component ${instance.component} in ${session.metadata.name}`);
  const env = {
    ...c.env,
    FATHOM_SESSION: session.metadata.name,
    FATHOM_COMPONENT: c.name,
    FATHOM_REPLICA: String(instance.replica),
    ...(c.kind === driverKind ? {} : { WORKER_KIND: c.kind }),
    ...extraEnv,
  };
  return {
    name: instance.workload,
    owner: session.metadata.name,
    node,
    containers: [
      {
        name: c.name,
        command: c.command,
        ...(c.args ? { args: c.args } : {}),
        env,
        ...(c.image !== undefined ? { image: c.image } : {}),
        ...(c.port !== undefined ? { port: c.port } : {}),
      },
    ],
  };
}
