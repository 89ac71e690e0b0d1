/**
 * A pod runner for one test file: a few nodes with random names, a temp work dir, and a PATH
 * with this checkout's `fathom` (shim.ts) and the Node running the tests. Start it in
 * `beforeAll` and stop it in `afterAll`; a runner per file keeps files independent (the
 * integration project runs one file at a time against one cluster).
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { startPodRunner } from './runner.js';
import type { PodRunner, PodRunnerOptions } from './runner.js';
import { writeFathomShim } from './shim.js';

export interface TestPodRunner extends PodRunner {
  readonly workDir: string;
  /** Stops the runner and removes its work dir (kept when FATHOM_CLUSTER_KEEP is set). */
  stop(): Promise<void>;
}

export type TestPodRunnerOptions = Partial<Omit<PodRunnerOptions, 'kubeconfig' | 'nodes'>> & {
  /** How many runner nodes; 2 by default. */
  readonly count?: number;
};

export async function startTestPodRunner(
  kubeconfig: string,
  options: TestPodRunnerOptions = {},
): Promise<TestPodRunner> {
  const { count = 2, ...rest } = options;
  const workDir = rest.workDir ?? (await mkdtemp(join(tmpdir(), 'fathom-podrunner-')));
  const bin = join(workDir, 'bin');
  await writeFathomShim(bin);
  const id = randomBytes(3).toString('hex');
  const runner = await startPodRunner({
    ...rest,
    kubeconfig,
    workDir,
    nodes: Array.from({ length: count }, (_, i) => `runner-${id}-${i}`),
    pathPrepend: [bin, ...(rest.pathPrepend ?? []), dirname(process.execPath)],
  });
  let stopped: Promise<void> | undefined;
  return {
    nodes: runner.nodes,
    workDir,
    nodeIP: (node) => runner.nodeIP(node),
    podDir: (ns, pod) => runner.podDir(ns, pod),
    podLogs: (ns, pod, container) => runner.podLogs(ns, pod, container),
    containerPid: (ns, pod, container) => runner.containerPid(ns, pod, container),
    stop: () =>
      (stopped ??= runner.stop().then(async () => {
        if (!process.env.FATHOM_CLUSTER_KEEP) await rm(workDir, { recursive: true, force: true });
      })),
  };
}
