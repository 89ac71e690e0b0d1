/**
 * A local process for a check run: no shell, its own process group (so a kill reaches whatever
 * it started), stdout and stderr kept together up to a cap and the rest counted, never held.
 */
import { spawn, type ChildProcess } from 'node:child_process';

export interface CappedSpawn {
  readonly command: string;
  readonly args: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  readonly cwd?: string;
  /** Bytes of output kept (stdout and stderr, in arrival order). */
  readonly maxOutputBytes: number;
  /** Kills the group (SIGKILL) and rejects with the signal's reason. */
  readonly signal: AbortSignal;
}

export interface CappedResult {
  /** The exit code, or undefined when a signal ended it (`signal` then says which). */
  readonly exitCode: number | undefined;
  readonly exitSignal: NodeJS.Signals | undefined;
  /** The first `maxOutputBytes` of output. */
  readonly output: Buffer;
  readonly droppedBytes: number;
  /** The last bytes of all the output (the end of a flood too), for a last-line message. */
  readonly tail: string;
}

/** Bytes of the output's end kept apart from the capped head, for the message. */
const TAIL_BYTES = 4096;

function killGroup(child: ChildProcess): void {
  if (!child.pid) return;
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {
    // the group is gone already
  }
}

/**
 * Runs to the end: resolves once the process has exited and its output is closed. Anything
 * of the group left behind when the leader exits is killed (a check leaves nothing running).
 * Rejects when it cannot be started or when `signal` aborts.
 */
export function runCapped(spec: CappedSpawn): Promise<CappedResult> {
  return new Promise<CappedResult>((resolve, reject) => {
    if (spec.signal.aborted) {
      reject(spec.signal.reason instanceof Error ? spec.signal.reason : new Error('aborted'));
      return;
    }
    let child: ChildProcess;
    try {
      child = spawn(spec.command, [...spec.args], {
        ...(spec.cwd ? { cwd: spec.cwd } : {}),
        env: spec.env,
        detached: true,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
    } catch (err) {
      reject(err instanceof Error ? err : new Error(String(err)));
      return;
    }
    const head: Buffer[] = [];
    let kept = 0;
    let dropped = 0;
    let tail = Buffer.alloc(0);
    let open = 2;
    let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
    let settled = false;

    const finish = (err?: Error): void => {
      if (settled) return;
      settled = true;
      spec.signal.removeEventListener('abort', onAbort);
      if (err) {
        reject(err);
        return;
      }
      resolve({
        exitCode: exit!.code ?? undefined,
        exitSignal: exit!.signal ?? undefined,
        output: Buffer.concat(head, kept),
        droppedBytes: dropped,
        tail: tail.toString('utf8'),
      });
    };
    const onAbort = (): void => {
      // Only while the leader is ours to signal: after its exit the group id may be reused.
      if (!exit) killGroup(child);
      child.stdout?.destroy();
      child.stderr?.destroy();
      finish(spec.signal.reason instanceof Error ? spec.signal.reason : new Error('aborted'));
    };
    spec.signal.addEventListener('abort', onAbort, { once: true });

    const onData = (chunk: Buffer): void => {
      const room = spec.maxOutputBytes - kept;
      if (room > 0) {
        const part = chunk.length <= room ? chunk : chunk.subarray(0, room);
        head.push(Buffer.from(part));
        kept += part.length;
      }
      dropped += Math.max(0, chunk.length - Math.max(0, room));
      tail = Buffer.concat([tail, chunk.subarray(Math.max(0, chunk.length - TAIL_BYTES))]);
      if (tail.length > TAIL_BYTES) tail = Buffer.from(tail.subarray(tail.length - TAIL_BYTES));
    };
    const onClose = (): void => {
      open--;
      if (open === 0 && exit) finish();
    };
    for (const stream of [child.stdout!, child.stderr!]) {
      stream.on('data', onData);
      stream.on('close', onClose);
      stream.on('error', () => undefined);
    }
    child.on('error', (err) => finish(err));
    child.on('exit', (code, signal) => {
      // What the leader left running would hold the pipes open until the timeout.
      killGroup(child);
      exit = { code, signal };
      if (open === 0) finish();
    });
  });
}
