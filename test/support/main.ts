/** The CLI's `main` in this process with captured output: the command tree as a user drives it. */
import type { Io } from '../../src/cli/context.js';
import { main } from '../../src/cli/main.js';

export interface Printed {
  readonly code: number;
  readonly out: string;
  readonly err: string;
}

export async function runMain(
  args: readonly string[],
  o: { env?: NodeJS.ProcessEnv; cwd?: string } = {},
): Promise<Printed> {
  let out = '';
  let err = '';
  const io: Io = {
    out: (t) => void (out += t),
    err: (t) => void (err += t),
    isTTY: false,
    env: o.env ?? {},
    cwd: o.cwd ?? process.cwd(),
    stdin: (async function* () {})(),
  };
  const code = await main(['node', 'fathom', ...args], io);
  return { code, out, err };
}
