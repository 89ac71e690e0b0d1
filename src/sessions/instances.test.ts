import { describe, expect, it } from 'vitest';
import { checkWorkloadSpec } from '../core/workload.js';
import { driverEnv, provisioningGroups, workloadFor, workloadName } from './instances.js';
import { parseSessionText } from './spec.js';

const text = `apiVersion: fathom.dev/v1alpha1
kind: Session
metadata: { name: load }
spec:
  components:
    - { name: drv, kind: driver, pool: d, command: [./driver] }
    - { name: cli, kind: client, pool: w, replicas: 2, command: [./client], env: { QPS_WORKERS: mine } }
    - { name: mon, kind: monitor, pool: m, command: [./mon] }
    - { name: srv, kind: server, pool: w, replicas: 2, command: [./server], port: 10000 }
`;
const [session] = parseSessionText(text, 's.yaml');

describe('provisioningGroups', () => {
  it('orders servers, clients, other roles, then the driver, replicas in order', () => {
    const groups = provisioningGroups(session!).map((g) => g.map((i) => i.workload));
    expect(groups).toEqual([
      ['load-srv-0', 'load-srv-1'],
      ['load-cli-0', 'load-cli-1'],
      ['load-mon-0'],
      ['load-drv-0'],
    ]);
  });
});

describe('workloadName', () => {
  it('keeps long names valid and distinct', () => {
    const long = 'a'.repeat(60);
    const a = workloadName(long, 'server', 1);
    const b = workloadName(long, 'server', 2);
    expect(a).toHaveLength(63);
    expect(a).not.toBe(b);
    expect(a).toMatch(/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/);
  });
});

describe('workloadFor and driverEnv', () => {
  it('gives the driver every server, then every client', () => {
    expect(driverEnv(['h1:1', 'h2:1'], ['h3:2'])).toEqual({
      QPS_WORKERS: 'h1:1,h2:1,h3:2',
      FATHOM_SERVERS: 'h1:1,h2:1',
      FATHOM_CLIENTS: 'h3:2',
    });
  });

  it('builds a valid workload whose fathom variables win', () => {
    const [servers, clients] = provisioningGroups(session!);
    const spec = workloadFor(session!, clients![1]!, 'w-3', driverEnv(['a:1'], []));
    expect(() => checkWorkloadSpec(spec)).not.toThrow();
    expect(spec).toMatchObject({ name: 'load-cli-1', owner: 'load', node: 'w-3' });
    expect(spec.containers[0]!.env).toMatchObject({
      QPS_WORKERS: 'a:1',
      FATHOM_REPLICA: '1',
      WORKER_KIND: 'client',
    });
    expect(workloadFor(session!, servers![0]!, 'w-0').containers[0]!.port).toBe(10000);
  });
});
