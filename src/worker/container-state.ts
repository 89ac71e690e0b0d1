import { readFile } from 'node:fs/promises';

/** What the worker needs to know about one of the other containers in its pod. */
export interface ContainerState {
  readonly name: string;
  readonly terminated: boolean;
  readonly exitCode?: number;
  /** Kubernetes' terminated reason (`Completed`, `Error`, `OOMKilled`...), when known. */
  readonly reason?: string;
  /** The terminated state's message, when known. */
  readonly message?: string;
}

/**
 * Sonobuoy's wording for a container that stopped without results, which its Monitor records
 * as the error result (exactly this text, reason and message possibly empty).
 */
export function terminatedMessage(
  container: string,
  exitCode: number,
  reason: string,
  message: string,
): string {
  return `Container ${container} is in a terminated state (exit code ${exitCode}) due to reason: ${reason}: ${message}`;
}

/**
 * Where the no-done-file fallback learns whether the plugin's containers have finished.
 * Sonobuoy asks the API server for its own pod; fathom's local backend writes a file and the
 * Kubernetes backend reads the pod.
 */
export interface ContainerStateSource {
  /** The pod's containers other than the worker, or undefined when that is unknown right now. */
  otherContainers(): Promise<readonly ContainerState[] | undefined>;
}

/** True when every other container has terminated with exit code 0 (vacuously true for none). */
export function allCompletedOk(states: readonly ContainerState[]): boolean {
  return states.every((s) => s.terminated && s.exitCode === 0);
}

interface PodStatusFileEntry {
  name?: unknown;
  state?: unknown;
  exitCode?: unknown;
  reason?: unknown;
  message?: unknown;
}

function parseStates(text: string, self: string): ContainerState[] | undefined {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    return undefined; // half-written: the writer will finish it
  }
  const containers = (doc as { containers?: unknown } | null)?.containers;
  if (!Array.isArray(containers)) return undefined;
  const states: ContainerState[] = [];
  for (const raw of containers as PodStatusFileEntry[]) {
    if (typeof raw?.name !== 'string') return undefined;
    if (raw.name === self) continue;
    const exitCode = typeof raw.exitCode === 'number' ? raw.exitCode : undefined;
    states.push({
      name: raw.name,
      terminated: raw.state === 'terminated',
      ...(exitCode === undefined ? {} : { exitCode }),
      ...(typeof raw.reason === 'string' ? { reason: raw.reason } : {}),
      ...(typeof raw.message === 'string' ? { message: raw.message } : {}),
    });
  }
  return states;
}

class FileContainerStateSource implements ContainerStateSource {
  constructor(
    private readonly file: string,
    private readonly self: string,
  ) {}

  async otherContainers(): Promise<ContainerState[] | undefined> {
    let text: string;
    try {
      text = await readFile(this.file, 'utf8');
    } catch {
      return undefined;
    }
    return parseStates(text, this.self);
  }
}

/**
 * Reads container states from a JSON file (`FATHOM_POD_STATUS_FILE`) shaped
 * `{"containers":[{"name":"plugin","state":"running"|"terminated","exitCode":0,"reason":"Completed","message":""}]}`.
 * The entry named `self` (the worker's own container) is ignored. A missing or malformed
 * file reads as unknown, never as "done".
 */
export function createFileContainerStateSource(
  file: string,
  self = 'sonobuoy-worker',
): ContainerStateSource {
  return new FileContainerStateSource(file, self);
}
