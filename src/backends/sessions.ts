/**
 * What a backend gives the session commands: the backend-neutral client over its store,
 * runtime and pools, plus making sure a controller is there to act on what the client writes.
 */
import type { SessionsClient } from '../sessions/index.js';

/**
 * `running`: a controller was there; `started`/`restarted`: this call started one (local);
 * `absent`: none holds the controller's lease (Kubernetes: none installed, or all down), so
 * sessions wait in the queue until one runs.
 */
export type ControllerStart = 'running' | 'started' | 'restarted' | 'absent';

export interface SessionsBackend extends SessionsClient {
  ensureController(): Promise<ControllerStart>;
  /** Stored sessions that cannot be read as sessions (Kubernetes: applied with kubectl), one line each. */
  problems(): Promise<readonly string[]>;
  close(): Promise<void>;
}
