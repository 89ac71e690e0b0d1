import { createHash } from 'node:crypto';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { WorkerMode } from '../../../worker/config.js';
import type { ContainerState } from '../../../worker/container-state.js';

/**
 * The node host's control protocol: newline-delimited JSON over a Unix socket. The aggregator
 * asks for workers; the host tells every connected aggregator each worker's state, and replays
 * them all to one that connects (an aggregator restarted after a crash adopts them this way).
 */
/** What `fathom delete` and the health reader know the host by in the run's pid registry. */
export const NODE_HOST_OWNER = 'node-host';

export type HostRequest =
  | {
      readonly op: 'start';
      readonly id: number;
      /** The pod the worker belongs to: one worker per pod. */
      readonly pod: string;
      readonly mode: WorkerMode;
      /** What `fathom worker` would read from its environment. */
      readonly env: Readonly<Record<string, string>>;
      readonly logFile: string;
    }
  /** The pod's other containers changed: what the worker's no-done-file fallback looks at. */
  | {
      readonly op: 'containers';
      readonly pod: string;
      readonly containers: readonly ContainerState[];
    }
  | { readonly op: 'stop'; readonly pod: string }
  | { readonly op: 'shutdown' };

export type WorkerState =
  | { readonly state: 'running' }
  | {
      readonly state: 'terminated';
      readonly exitCode: number;
      readonly reason: string;
      readonly message: string;
    };

export type HostEvent =
  | { readonly ev: 'hello'; readonly pid: number }
  /** The worker of a `start` request runs; its progress relay listens on `port` (0: none). */
  | { readonly ev: 'started'; readonly id: number; readonly port: number }
  | { readonly ev: 'state'; readonly pod: string; readonly state: WorkerState };

export function send(socket: Socket, message: HostRequest | HostEvent): void {
  if (!socket.destroyed) socket.write(`${JSON.stringify(message)}\n`);
}

/** Calls `onMessage` with each whole line received, parsed; a line that is not JSON is dropped. */
export function onLines(socket: Socket, onMessage: (message: unknown) => void): void {
  let buffered = '';
  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => {
    buffered += chunk;
    let nl: number;
    while ((nl = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, nl);
      buffered = buffered.slice(nl + 1);
      try {
        onMessage(JSON.parse(line));
      } catch {
        // not ours
      }
    }
  });
}

/**
 * Where the host of a run listens: in the run directory, unless that path is too long for a
 * Unix socket (108 bytes on Linux); then in the temporary directory, named after the run's.
 */
export function socketPathOf(runDir: string): string {
  const inRun = join(runDir, 'nodehost.sock');
  if (Buffer.byteLength(inRun) < 100) return inRun;
  const tag = createHash('sha256').update(runDir).digest('hex').slice(0, 16);
  return join(tmpdir(), `fathom-nodehost-${tag}.sock`);
}
