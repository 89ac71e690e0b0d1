/**
 * Runs PodWorkers for unit tests: real processes and files, a ManualClock, and an in-memory
 * PodApi that records every status write (the real API is covered by
 * test/integration/podrunner.test.ts).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { ManualClock } from '../../src/core/clock.js';
import { PodWorker } from './pod.js';
import type { PodApi } from './pod.js';
import type { ConfigMap, Container, Pod, PodSpec, Secret } from './types.js';
import type { TokenSpec } from './volumes.js';

/** The parts of a written pod status the tests read. */
export interface Status {
  phase: string;
  podIP: string;
  conditions: { type: string; status: string }[];
  containerStatuses: {
    name: string;
    restartCount: number;
    state: Record<string, { reason?: string; exitCode?: number; message?: string }>;
    lastState: { terminated?: { exitCode: number } };
  }[];
  initContainerStatuses?: Status['containerStatuses'];
}

/** The API server as a pod worker sees it, in memory; records status writes and removals. */
export class MemoryApi implements PodApi {
  readonly statuses: Status[] = [];
  readonly secrets = new Map<string, Secret>();
  readonly configMaps = new Map<string, ConfigMap>();
  readonly tokens: TokenSpec[] = [];
  removed = 0;
  #waiters: (() => void)[] = [];

  secret(_ns: string, name: string): Promise<Secret | undefined> {
    return Promise.resolve(this.secrets.get(name));
  }
  configMap(_ns: string, name: string): Promise<ConfigMap | undefined> {
    return Promise.resolve(this.configMaps.get(name));
  }
  token(_pod: Pod, spec: TokenSpec): Promise<string> {
    this.tokens.push(spec);
    return Promise.resolve('a.jwt.token');
  }
  patchStatus(_pod: Pod, status: object): Promise<'ok'> {
    this.statuses.push(structuredClone(status) as Status);
    for (const w of this.#waiters.splice(0)) w();
    return Promise.resolve('ok');
  }
  remove(): Promise<void> {
    this.removed++;
    return Promise.resolve();
  }
  get last(): Status | undefined {
    return this.statuses.at(-1);
  }
  /** Resolves with the first written status (from now on or already) that matches. */
  async until(match: (s: Status) => boolean, what: string): Promise<Status> {
    for (let seen = 0; ;) {
      const hit = this.statuses.slice(seen).find(match);
      if (hit) return hit;
      seen = this.statuses.length;
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`no status ${what}; last: ${JSON.stringify(this.last)}`)),
          20_000,
        );
        this.#waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }
}

const nodeDir = dirname(process.execPath);

/** A container that runs a Node.js script. */
export function script(name: string, js: string, extra: Partial<Container> = {}): Container {
  return { name, image: 'ignored:1', command: ['node', '-e', js], ...extra };
}

export const phase = (p: string) => (s: Status) => s.phase === p;

export interface PodHarness {
  start(
    spec: PodSpec,
    objects?: { secrets?: Secret[]; configMaps?: ConfigMap[] },
  ): { api: MemoryApi; pod: Pod; podDir: string; worker: PodWorker; clock: ManualClock };
  /** Stops the workers of the test that just ran (afterEach). */
  stopAll(): Promise<void>;
  /** Removes the work dir (afterAll). */
  close(): Promise<void>;
}

export async function createPodHarness(): Promise<PodHarness> {
  const work = await mkdtemp(join(tmpdir(), 'podrunner-pod-'));
  const workers: PodWorker[] = [];
  let seq = 0;
  return {
    start(spec, objects = {}) {
      const clock = new ManualClock();
      const api = new MemoryApi();
      for (const s of objects.secrets ?? []) api.secrets.set(s.metadata.name, s);
      for (const c of objects.configMaps ?? []) api.configMaps.set(c.metadata.name, c);
      const pod: Pod = {
        metadata: { name: `p${++seq}`, namespace: 'ns', uid: `uid-${seq}` },
        spec,
      };
      const podDir = join(work, pod.metadata.name);
      const worker = new PodWorker(pod, {
        api,
        clock,
        podDir,
        podIP: '127.0.42.7',
        hostIP: '127.0.42.1',
        pathPrepend: [nodeDir],
        baseEnv: { PATH: `${nodeDir}:/usr/bin:/bin`, KUBERNETES_SERVICE_HOST: '127.0.0.1' },
        restartBackoff: { initialMs: 1000, maxMs: 4000 },
        retryBackoff: { initialMs: 500, maxMs: 500 },
        maxGraceMs: 30_000,
        log: () => undefined,
      });
      workers.push(worker);
      worker.start();
      return { api, pod, podDir, worker, clock };
    },
    async stopAll() {
      await Promise.all(workers.splice(0).map((w) => w.end('stop')));
    },
    close: () => rm(work, { recursive: true, force: true }),
  };
}
