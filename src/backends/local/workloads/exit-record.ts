/**
 * Exit codes that outlive the supervisor. A workload's supervisor is the process that placed it
 * (the session controller); a container that ends after its supervisor died would end with an
 * unknown exit code, and a driver's exit decides its session. With `recordExits`, each container
 * runs under a tiny recorder (node, in the container's process group) that writes the command's
 * exit to `exit.json` in the container's directory, where a later reader finds it.
 */
import { access, constants, readFile } from 'node:fs/promises';
import { delimiter, isAbsolute, join } from 'node:path';

export const EXIT_FILE = 'exit.json';

export interface ExitRecord {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

// Ignores the group's SIGTERM/SIGINT (the command gets them too) so that it outlives the command
// and records it; then ends as the command did, so a live supervisor sees the same exit.
const RECORDER = `
const { spawn } = require("node:child_process"), fs = require("node:fs");
const [file, cmd, ...args] = process.argv.slice(1);
for (const s of ["SIGTERM", "SIGINT", "SIGHUP"]) process.on(s, () => {});
const c = spawn(cmd, args, { stdio: "inherit" });
c.on("error", (e) => { console.error(cmd + ": " + e.message); process.exit(127); });
c.on("exit", (code, signal) => {
  try { fs.writeFileSync(file, JSON.stringify({ code, signal })); } catch {}
  if (!signal) process.exit(code);
  process.removeAllListeners(signal);
  process.kill(process.pid, signal);
});`;

/** The command that runs `command args` and records its exit in `file`. */
export function recorded(
  command: string,
  args: readonly string[],
  file: string,
): { command: string; args: string[] } {
  return { command: process.execPath, args: ['-e', RECORDER, file, command, ...args] };
}

/** Whether `command` names an executable (a path, or found on PATH), as spawn would find it. */
export async function executable(command: string, path: string | undefined): Promise<boolean> {
  const ok = (f: string) =>
    access(f, constants.X_OK).then(
      () => true,
      () => false,
    );
  if (command.includes('/')) return isAbsolute(command) && ok(command);
  for (const dir of (path ?? '').split(delimiter).filter(Boolean)) {
    if (await ok(join(dir, command))) return true;
  }
  return false;
}

/** The recorded exit of a container, or undefined when none was written (or it is unreadable). */
export async function readExitRecord(containerDir: string): Promise<ExitRecord | undefined> {
  const text = await readFile(join(containerDir, EXIT_FILE), 'utf8').catch(() => undefined);
  if (text === undefined) return undefined;
  try {
    const v = JSON.parse(text) as { code?: unknown; signal?: unknown };
    const code = typeof v.code === 'number' && Number.isInteger(v.code) ? v.code : null;
    const signal = typeof v.signal === 'string' ? (v.signal as NodeJS.Signals) : null;
    return code === null && signal === null ? undefined : { code, signal };
  } catch {
    return undefined;
  }
}
