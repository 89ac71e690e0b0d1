/**
 * A local workload on disk, `<home>/workloads/<name>/`: `workload.json` (the spec, the ports
 * chosen, the pid of the process that supervises it), `status.json` (its containers' states,
 * written by that process's LocalPod), `<container>.log` and `pids/`. Any process reads a
 * workload from these files alone, each checked against its schema when read.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { FathomError } from '../../../core/errors.js';
import type { ExitRecord } from './exit-record.js';
import { readExitRecord } from './exit-record.js';
import { Type, type Static } from '../../../core/schema.js';
import { validatedJson } from '../../../core/validated.js';
import { phaseOf, type ContainerStatus, type WorkloadState } from '../../../core/workload.js';
import { PidRegistry } from '../process/pidfile.js';

export const WORKLOAD_API_VERSION = 'fathom.dev/v1alpha1';
const dnsLabel = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

/** True when `name` can be a workload (and so a directory name): a DNS label. */
export function isWorkloadName(name: string): boolean {
  return dnsLabel.test(name);
}

export function workloadsDirOf(home: string): string {
  return join(home, 'workloads');
}

/** The directory of a workload; only for names `isWorkloadName` accepts. */
export function workloadDirOf(home: string, name: string): string {
  if (!isWorkloadName(name)) throw new Error(`not a workload name: ${name}`);
  return join(workloadsDirOf(home), name);
}

export const files = { spec: 'workload.json', status: 'status.json', pids: 'pids' } as const;

const label = Type.String({ pattern: dnsLabel.source });
const ContainerSchema = Type.Object(
  {
    name: label,
    command: Type.Array(Type.String(), { minItems: 1 }),
    args: Type.Optional(Type.Array(Type.String())),
    env: Type.Optional(Type.Record(Type.String(), Type.String())),
    image: Type.Optional(Type.String()),
    port: Type.Optional(Type.Integer({ minimum: 1, maximum: 65535 })),
  },
  { additionalProperties: false },
);

export const WorkloadFileSchema = Type.Object(
  {
    apiVersion: Type.Literal(WORKLOAD_API_VERSION),
    kind: Type.Literal('Workload'),
    createdAt: Type.String(),
    /** The process whose LocalPod writes status.json: while it lives, status.json is true. */
    supervisor: Type.Integer({ minimum: 1 }),
    addresses: Type.Record(Type.String(), Type.String()),
    spec: Type.Object(
      {
        name: label,
        owner: Type.String({ minLength: 1, maxLength: 63 }),
        node: Type.String({ minLength: 1 }),
        containers: Type.Array(ContainerSchema, { minItems: 1 }),
      },
      { additionalProperties: false },
    ),
  },
  { additionalProperties: false },
);
export type WorkloadFile = Static<typeof WorkloadFileSchema>;

/** What LocalPod writes (process/pod.ts). */
const StatusSchema = Type.Object({
  containers: Type.Array(
    Type.Object({
      name: Type.String(),
      state: Type.Enum(['waiting', 'running', 'terminated']),
      exitCode: Type.Optional(Type.Integer()),
      reason: Type.Optional(Type.String()),
      message: Type.Optional(Type.String()),
    }),
  ),
});
type Snapshot = Static<typeof StatusSchema>['containers'][number];

async function readText(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new FathomError('FATHOM_STATE_INVALID', `${file}: cannot be read (${String(err)})`, {
      details: { file },
    });
  }
}

/** The workload file, or undefined when absent (not placed, half placed or removed). */
export async function readWorkloadFile(
  home: string,
  name: string,
): Promise<WorkloadFile | undefined> {
  if (!isWorkloadName(name)) return undefined;
  const file = join(workloadDirOf(home, name), files.spec);
  const text = await readText(file);
  if (text === undefined) return undefined;
  const record = validatedJson(WorkloadFileSchema, text, { file });
  if (record.spec.name !== name) {
    throw new FathomError('FATHOM_STATE_INVALID', `${file}: spec.name: must be ${name}`, {
      details: { file, field: 'spec.name' },
    });
  }
  return record;
}

/** A container that ended after its supervisor, as its exit recorder wrote it down. */
const recordedEnd = (name: string, e: ExitRecord): ContainerStatus => ({
  name,
  restarts: 0,
  state: 'terminated',
  exitCode: e.code,
  reason: e.signal ? 'Killed' : e.code === 0 ? 'Completed' : 'Error',
  message: e.signal
    ? `killed by ${e.signal}`
    : `exited with code ${e.code} after its supervisor ended`,
});

const unknownEnd = (message: string): ContainerStatus & { state: 'terminated' } => ({
  name: '',
  restarts: 0,
  state: 'terminated',
  exitCode: null,
  reason: 'ContainerStatusUnknown',
  message,
});

/**
 * A workload's state from its files. While its supervisor lives, status.json is the truth;
 * once it is gone nobody updates it, so a "running" container whose process is gone has ended
 * with an unknown exit code (as the kubelet reports a container it lost). With `owner`, another
 * owner's workload is undefined without reading its status.
 */
export async function readWorkloadState(
  home: string,
  name: string,
  alive: (pid: number | undefined) => boolean,
  owner?: string,
): Promise<WorkloadState | undefined> {
  const record = await readWorkloadFile(home, name);
  if (!record || (owner !== undefined && record.spec.owner !== owner)) return undefined;
  const dir = workloadDirOf(home, name);
  const file = join(dir, files.status);
  const text = await readText(file);
  const snaps = text === undefined ? [] : validatedJson(StatusSchema, text, { file }).containers;
  const supervised = alive(record.supervisor);
  const pids = supervised ? undefined : await new PidRegistry(join(dir, files.pids)).read();
  const pidOf = (container: string): number | undefined =>
    [...(pids ?? [])].find(([, owner]) => owner === `${name}/${container}`)?.[0];
  const containers = await Promise.all(
    record.spec.containers.map(async (c): Promise<ContainerStatus> => {
      const s: Snapshot | undefined = snaps.find((x) => x.name === c.name);
      if (!s || s.state === 'waiting') {
        if (!supervised)
          return { ...unknownEnd('its supervisor ended before it started'), name: c.name };
        return {
          name: c.name,
          restarts: 0,
          state: 'waiting',
          reason: 'ContainerCreating',
          message: '',
        };
      }
      if (s.state === 'running') {
        if (!supervised && !alive(pidOf(c.name))) {
          const exit = await readExitRecord(join(dir, 'containers', c.name));
          if (exit) return recordedEnd(c.name, exit);
          return {
            ...unknownEnd('ended after its supervisor; its exit code is unknown'),
            name: c.name,
          };
        }
        return { name: c.name, restarts: 0, state: 'running' };
      }
      return {
        name: c.name,
        restarts: 0,
        state: 'terminated',
        exitCode: s.exitCode ?? null,
        reason: s.reason ?? 'Error',
        message: s.message ?? '',
      };
    }),
  );
  return {
    name,
    owner: record.spec.owner,
    node: record.spec.node,
    phase: phaseOf(containers),
    containers,
    addresses: record.addresses,
  };
}

/** The names of every workload directory, sorted. */
export async function workloadNames(home: string): Promise<string[]> {
  const names = await readdir(workloadsDirOf(home)).catch(() => [] as string[]);
  return names.filter(isWorkloadName).sort();
}

/** Every workload's state (of `owner`, when given), in name order. */
export async function readAllWorkloads(
  home: string,
  alive: (pid: number | undefined) => boolean,
  owner?: string,
): Promise<WorkloadState[]> {
  const out: WorkloadState[] = [];
  for (const name of await workloadNames(home)) {
    const state = await readWorkloadState(home, name, alive, owner);
    if (state) out.push(state);
  }
  return out;
}
