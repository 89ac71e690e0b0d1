/** The CLI's `main` in this process with captured output: the command tree as a user drives it. */
import type { Io } from '../../src/cli/context.js';
import { main } from '../../src/cli/main.js';

export interface Printed {
  readonly code: number;
  readonly out: string;
  readonly err: string;
}

export interface IoOptions {
  readonly env?: NodeJS.ProcessEnv;
  readonly cwd?: string;
  readonly isTTY?: boolean;
}

/** An Io that keeps what is printed, with no input; `out()` and `err()` read it so far. */
export function capturingIo(o: IoOptions = {}): { io: Io; out: () => string; err: () => string } {
  let out = '';
  let err = '';
  const io: Io = {
    out: (t) => void (out += t),
    err: (t) => void (err += t),
    isTTY: o.isTTY ?? false,
    env: o.env ?? {},
    cwd: o.cwd ?? process.cwd(),
    stdin: (async function* () {})(),
  };
  return { io, out: () => out, err: () => err };
}

export async function runMain(args: readonly string[], o: IoOptions = {}): Promise<Printed> {
  const captured = capturingIo(o);
  const code = await main(['node', 'fathom', ...args], captured.io);
  return { code, out: captured.out(), err: captured.err() };
}
