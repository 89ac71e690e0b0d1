/**
 * The record a running cluster keeps in its dir (`cluster.json`): enough for `cluster:down`,
 * or a later `startCluster` on the same dir, to find and stop exactly its processes.
 */
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Clock } from '../../src/core/clock.js';
import { isAlive, runsBinary, stopProcesses } from './processes.js';
import type { ProcessRecord } from './processes.js';

export interface ClusterState {
  readonly server: string;
  readonly kubeconfig: string;
  /** Whether startCluster made the dir (then stop removes all of it). */
  readonly ownsDir: boolean;
  /** In start order. */
  readonly processes: readonly ProcessRecord[];
}

export const STATE_FILE = 'cluster.json';

export async function readState(dir: string): Promise<ClusterState | undefined> {
  let text: string;
  try {
    text = await readFile(join(dir, STATE_FILE), 'utf8');
  } catch {
    return undefined;
  }
  const state = JSON.parse(text) as ClusterState;
  if (!Array.isArray(state.processes))
    throw new Error(`${join(dir, STATE_FILE)} has no processes list`);
  return state;
}

/** Writes the record, or removes it when `state` is undefined. */
export async function writeState(dir: string, state: ClusterState | undefined): Promise<void> {
  const path = join(dir, STATE_FILE);
  if (state === undefined) await rm(path, { force: true });
  else await writeFile(path, `${JSON.stringify(state, null, 2)}\n`);
}

/** The recorded processes that still run their recorded binary (pids may have been reused). */
export async function liveProcesses(state: ClusterState): Promise<ProcessRecord[]> {
  const live: ProcessRecord[] = [];
  for (const p of state.processes) {
    if ((await isAlive(p.pid)) && (await runsBinary(p.pid, p.binary))) live.push(p);
  }
  return live;
}

/**
 * Stops the cluster recorded in `dir` by its pids and removes its etcd data and record
 * (the rest of the dir stays: kubeconfig and logs help afterwards). Returns what was stopped.
 */
export async function stopRecordedCluster(dir: string, clock: Clock): Promise<ProcessRecord[]> {
  const state = await readState(dir);
  if (!state) return [];
  const live = await liveProcesses(state);
  await stopProcesses(live, clock);
  await rm(join(dir, 'etcd'), { recursive: true, force: true });
  await writeState(dir, undefined);
  return live;
}
