/**
 * Temporary directories that must not outlive the process. Each is removed by its owner when done;
 * while any is live, an exit (process.exit from an EPIPE handler, say) removes it too, and SIGINT
 * or SIGTERM remove it and then end the process with the shell's code for that signal (130, 143).
 * The handlers are installed only while a directory is live, so that commands with their own
 * Ctrl-C handling (`logs -f`, `health --watch`) keep it otherwise.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

type Signal = 'SIGINT' | 'SIGTERM';

/** 128 + the signal's number, as a shell reports a process the signal ended. */
const SIGNAL_EXIT_CODES: Record<Signal, number> = { SIGINT: 130, SIGTERM: 143 };

const live = new Set<string>();

function removeAll(): void {
  for (const dir of live) rmSync(dir, { recursive: true, force: true });
  live.clear();
}

const onSignal = (signal: Signal): void => {
  removeAll();
  process.exit(SIGNAL_EXIT_CODES[signal]);
};
const onExit = (): void => removeAll();

function watch(on: boolean): void {
  const method = on ? 'on' : 'off';
  process[method]('exit', onExit);
  for (const signal of Object.keys(SIGNAL_EXIT_CODES) as Signal[])
    process[method](signal, onSignal);
}

/** A new empty directory under the system's temp directory (`$TMPDIR`), named `<prefix>XXXXXX`. */
export function makeTempDir(prefix: string): string {
  // Handlers first: a signal that comes once the directory exists must find them in place.
  if (live.size === 0) watch(true);
  let dir: string;
  try {
    dir = mkdtempSync(join(tmpdir(), prefix));
  } catch (err) {
    if (live.size === 0) watch(false);
    throw err;
  }
  live.add(dir);
  return dir;
}

/** Removes a directory from `makeTempDir` (again is harmless). */
export function removeTempDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
  if (live.delete(dir) && live.size === 0) watch(false);
}

/** How many directories are live (for tests). */
export function liveTempDirs(): number {
  return live.size;
}
