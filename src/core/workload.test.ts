import { describe, expect, it } from 'vitest';
import { isFathomError } from './errors.js';
import {
  checkWorkloadSpec,
  phaseOf,
  type ContainerStatus,
  type WorkloadPhase,
  type WorkloadSpec,
} from './workload.js';

const base: WorkloadSpec = {
  name: 'w-1',
  owner: 'session-a',
  node: 'node-1',
  containers: [{ name: 'main', command: ['/bin/true'] }],
};

function fieldOf(spec: WorkloadSpec): string | undefined {
  try {
    checkWorkloadSpec(spec);
    return undefined;
  } catch (err) {
    if (!isFathomError(err, 'FATHOM_WORKLOAD_INVALID')) throw err;
    return (err.details as { field: string }).field;
  }
}

describe('checkWorkloadSpec', () => {
  const main = base.containers[0]!;
  it.each<[string, Partial<WorkloadSpec>, string | undefined]>([
    ['a good spec', {}, undefined],
    ['a name that is not a DNS label', { name: 'W_1' }, 'name'],
    ['a name over 63 characters', { name: 'a'.repeat(64) }, 'name'],
    ['an owner that is no label value', { owner: 'a b' }, 'owner'],
    ['no node', { node: '' }, 'node'],
    ['no containers', { containers: [] }, 'containers'],
    [
      '17 containers',
      { containers: Array.from({ length: 17 }, (_, i) => ({ ...main, name: `c${i}` })) },
      'containers',
    ],
    ['a container name used twice', { containers: [main, main] }, 'containers[1].name'],
    ['an empty executable', { containers: [{ ...main, command: [''] }] }, 'containers[0].command'],
    [
      'arguments over 128 KiB',
      { containers: [{ ...main, args: ['x'.repeat(128 * 1024)] }] },
      'containers[0].args',
    ],
    [
      'a bad variable name',
      { containers: [{ ...main, env: { 'A=B': '1' } }] },
      'containers[0].env.A=B',
    ],
    ['port 0', { containers: [{ ...main, port: 0 }] }, 'containers[0].port'],
    ['port 65536', { containers: [{ ...main, port: 65536 }] }, 'containers[0].port'],
    ['port 8080', { containers: [{ ...main, port: 8080 }] }, undefined],
  ])('%s', (_, change, field) => {
    expect(fieldOf({ ...base, ...change })).toBe(field);
  });
});

describe('phaseOf (restartPolicy Never)', () => {
  const waiting: ContainerStatus = {
    name: 'a',
    restarts: 0,
    state: 'waiting',
    reason: 'ContainerCreating',
    message: '',
  };
  const running: ContainerStatus = { name: 'b', restarts: 0, state: 'running' };
  const exit = (code: number | null): ContainerStatus => ({
    name: 'c',
    restarts: 0,
    state: 'terminated',
    exitCode: code,
    reason: code === 0 ? 'Completed' : 'Error',
    message: '',
  });
  it.each<[string, ContainerStatus[], WorkloadPhase]>([
    ['no containers yet', [], 'Pending'],
    ['one still waiting', [running, waiting], 'Pending'],
    ['all started', [running, exit(0)], 'Running'],
    ['all exited 0', [exit(0), exit(0)], 'Succeeded'],
    ['one exited 1', [exit(0), exit(1)], 'Failed'],
    ['an unknown exit code', [exit(null)], 'Failed'],
  ])('%s', (_, containers, phase) => {
    expect(phaseOf(containers)).toBe(phase);
  });
});
