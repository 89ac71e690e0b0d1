/**
 * Helpers for the test files that drive `fathom ... --backend kubernetes` through the real CLI
 * against the test control plane, with the pod runner playing the kubelet.
 */
import { readFile } from 'node:fs/promises';
import { extract } from 'tar';
import type { RunStatus } from '../../src/aggregation/types.js';
import type { KubeObject } from '../cluster/kube.js';
import type { CliResult } from '../support/cli.js';

/** The label key of the runner nodes; each file gives its own nodes a random value. */
export const NODE_LABEL = 'fathom.test/cli-run';

/** Plugins report quickly: the worker looks for the done file every 100 ms and acts at once. */
export const FAST_WORKER_ENV = `
  env:
  - {name: SONOBUOY_DONE_FILE_DELAY, value: 100ms}
  - {name: FATHOM_POLL_INTERVAL, value: 100ms}`;

export interface Pod extends KubeObject {
  metadata: KubeObject['metadata'] & {
    uid?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  spec: { nodeName?: string };
  status?: {
    phase?: string;
    containerStatuses?: {
      name: string;
      restartCount?: number;
      state?: {
        running?: object;
        waiting?: { reason?: string };
        terminated?: { exitCode?: number };
      };
      lastState?: { terminated?: { exitCode?: number } };
    }[];
  };
}

/** A podSpec that lands only on nodes labelled `NODE_LABEL=value`. */
export function podSpec(value: string, driver: 'Job' | 'DaemonSet'): string {
  return `
podSpec:
  nodeSelector: {${NODE_LABEL}: "${value}"}
  serviceAccountName: sonobuoy-serviceaccount${driver === 'Job' ? '\n  restartPolicy: Never' : ''}`;
}

/** Exits once the file named by its argument exists: woken by the file system, no polling. */
export const WAIT_FOR_FILE = `const { existsSync, watch } = require('node:fs');
const { dirname } = require('node:path');
const file = process.argv[2];
const check = () => existsSync(file) && process.exit(0);
watch(dirname(file), check);
check();
`;

/** `waiting`, unless the CLI `running` meanwhile exits: then fail with what it said. */
export async function untilOrExit<T>(running: Promise<CliResult>, waiting: Promise<T>): Promise<T> {
  const exited = running.then((r) => {
    throw new Error(`fathom exited early (${r.code}):\n${r.stdout}\n${r.stderr}`);
  });
  exited.catch(() => undefined); // raced below; not every caller gets there
  return Promise.race([waiting, exited]);
}

/** The run's final status as `run -o json` prints it; fails with the CLI's output otherwise. */
export function statusOf(r: CliResult): RunStatus {
  try {
    return JSON.parse(r.stdout) as RunStatus;
  } catch {
    throw new Error(`no JSON status (exit ${r.code}):\n${r.stdout}\n${r.stderr}`);
  }
}

/** `plugin/node:status:result-status` of every entry, sorted. */
export const entries = (s: RunStatus): string[] =>
  s.plugins.map((p) => `${p.plugin}/${p.node}:${p.status}:${p['result-status']}`).sort();

export async function untar(tarball: string, dir: string): Promise<void> {
  await extract({ file: tarball, cwd: dir });
}

export const readJson = async <T>(path: string): Promise<T> =>
  JSON.parse(await readFile(path, 'utf8')) as T;

/** Everything a command against `kubeconfig` and namespace `ns` needs. */
export const target = (kubeconfig: string, ns: string): string[] => [
  '--backend',
  'kubernetes',
  '--kubeconfig',
  kubeconfig,
  '-n',
  ns,
];
