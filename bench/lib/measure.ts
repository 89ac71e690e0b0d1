/**
 * Timing and memory helpers shared by the benches: run a command and time it, measure a child's
 * peak RSS, fork a bench child that reports over IPC, and summarise repetitions.
 */
import { execFileSync, fork, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The fathom checkout: the first ancestor of this file with fathom's package.json. */
export const REPO_ROOT: string = (() => {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (
      existsSync(pkg) &&
      (JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'fathom'
    ) {
      return dir;
    }
    const up = dirname(dir);
    if (up === dir) throw new Error('bench: cannot find the fathom checkout above this file');
    dir = up;
  }
})();

/** `bin/fathom.js`, which runs the compiled CLI in dist/. */
export const FATHOM_BIN = join(REPO_ROOT, 'bin', 'fathom.js');

export interface Stats {
  median: number;
  min: number;
  max: number;
  n: number;
}

export function stats(values: readonly number[]): Stats {
  if (values.length === 0) return { median: NaN, min: NaN, max: NaN, n: 0 };
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  const median = s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
  return { median, min: s[0]!, max: s.at(-1)!, n: s.length };
}

/** The q-quantile (0..1) of `values`, nearest rank. */
export function quantile(values: readonly number[], q: number): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))] ?? NaN;
}

export interface ProcessRun {
  wallMs: number;
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Killed (SIGKILL) after this long; default 5 min. */
  timeoutMs?: number;
  /** Keep stdout (default: discarded, so a big report costs the bench nothing to read). */
  captureStdout?: boolean;
}

/** Runs `cmd args` to completion and measures its wall time from spawn to exit. */
export function runTimed(
  cmd: string,
  args: readonly string[],
  options: RunOptions = {},
): Promise<ProcessRun> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(cmd, args, {
      env: options.env ?? process.env,
      cwd: options.cwd ?? REPO_ROOT,
      stdio: ['ignore', options.captureStdout ? 'pipe' : 'ignore', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout?.on('data', (c: Buffer) => out.push(c));
    child.stderr?.on('data', (c: Buffer) => err.push(c));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 300_000);
    child.once('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({
        wallMs: performance.now() - started,
        code,
        signal,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
      });
    });
  });
}

/** GNU time, when installed: it reports the peak RSS the kernel recorded for the child (wait4). */
const gnuTime: string | undefined = (() => {
  try {
    const v = execFileSync('/usr/bin/time', ['--version'], { stdio: ['ignore', 'pipe', 'pipe'] });
    return v.toString().includes('GNU') ? '/usr/bin/time' : undefined;
  } catch (err) {
    const e = err as { stderr?: Buffer; stdout?: Buffer };
    return `${e.stdout?.toString() ?? ''}${e.stderr?.toString() ?? ''}`.includes('GNU')
      ? '/usr/bin/time'
      : undefined;
  }
})();

/** How peak RSS of external commands is measured on this machine (reported with the results). */
export const RSS_METHOD = gnuTime
  ? 'GNU time %M (kernel maxrss of the child)'
  : '/proc/<pid>/status VmHWM polled every 5 ms (a lower bound)';

export interface RssRun extends ProcessRun {
  /** Peak resident set size of the command in KiB. */
  maxRssKiB: number;
}

/**
 * Runs the command once more to read its peak RSS. Separate from the timed runs because the
 * measuring wrapper (GNU time or polling) costs a little wall time of its own.
 */
export async function runWithPeakRss(
  cmd: string,
  args: readonly string[],
  options: RunOptions = {},
): Promise<RssRun> {
  if (gnuTime) {
    const dir = await mkdtemp(join(tmpdir(), 'fathom-bench-time-'));
    try {
      const file = join(dir, 'rss');
      const run = await runTimed(gnuTime, ['-f', '%M', '-o', file, cmd, ...args], options);
      const kib = Number((await readFile(file, 'utf8')).trim().split('\n').at(-1));
      return { ...run, maxRssKiB: kib };
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }
  let peak = 0;
  const started = performance.now();
  const child = spawn(cmd, args, {
    env: options.env ?? process.env,
    cwd: options.cwd ?? REPO_ROOT,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const poll = setInterval(() => (peak = Math.max(peak, vmHwmKiB(child.pid) ?? 0)), 5);
  const err: Buffer[] = [];
  child.stderr?.on('data', (c: Buffer) => err.push(c));
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) =>
    child.once('close', (c, s) => resolve([c, s])),
  );
  clearInterval(poll);
  return {
    wallMs: performance.now() - started,
    code,
    signal,
    stdout: '',
    stderr: Buffer.concat(err).toString('utf8'),
    maxRssKiB: peak,
  };
}

/** VmHWM (peak RSS, KiB) of a live process, or undefined once it is gone. */
export function vmHwmKiB(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const m = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** A forked bench child (compiled JS under bench/out/build), talking JSON over IPC. */
export interface BenchChild<Out> {
  readonly process: ChildProcess;
  /** The next message of the given `type`; rejects if the child exits first. */
  next<T extends Out>(type: string): Promise<T>;
  send(message: unknown): void;
  /** Waits for the exit; kills it after `ms`. */
  exited(ms?: number): Promise<number | null>;
}

/**
 * Forks `script` with plain `node` (no loader; only the flags given) so its memory is the code's own.
 * Messages are objects with a `type`; the child sends `{type: 'error', message}` on failure.
 */
export function forkChild<Out extends { type: string }>(
  script: URL,
  args: readonly string[] = [],
  execArgv: readonly string[] = [],
): BenchChild<Out> {
  const child = fork(fileURLToPath(script), [...args], {
    execArgv: [...execArgv],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    serialization: 'json',
  });
  const queue: Out[] = [];
  const waiters: { type: string; resolve: (m: Out) => void; reject: (e: Error) => void }[] = [];
  let gone: Error | undefined;
  const deliver = (): void => {
    for (let i = 0; i < waiters.length; i++) {
      const w = waiters[i]!;
      const at = queue.findIndex((m) => m.type === w.type || m.type === 'error');
      if (at >= 0) {
        const [m] = queue.splice(at, 1);
        waiters.splice(i--, 1);
        if (m!.type === 'error')
          w.reject(new Error(`bench child: ${(m as { message?: string }).message}`));
        else w.resolve(m!);
      } else if (gone) {
        waiters.splice(i--, 1);
        w.reject(gone);
      }
    }
  };
  child.on('message', (m) => {
    queue.push(m as Out);
    deliver();
  });
  const exit = new Promise<number | null>((resolve) =>
    // 'close', not 'exit': by then every IPC message the child sent has been delivered.
    child.once('close', (code, signal) => {
      gone = new Error(`bench child ${script.pathname} exited (${code ?? signal}) early`);
      deliver();
      resolve(code);
    }),
  );
  return {
    process: child,
    next: <T extends Out>(type: string) =>
      new Promise<T>((resolve, reject) => {
        waiters.push({ type, resolve: resolve as (m: Out) => void, reject });
        deliver();
      }),
    send: (message) => child.send(message as object),
    exited: async (ms = 30_000) => {
      const timer = setTimeout(() => child.kill('SIGKILL'), ms);
      try {
        return await exit;
      } finally {
        clearTimeout(timer);
      }
    },
  };
}

/** Peak RSS of this very process, KiB (getrusage ru_maxrss): what a child reports about itself. */
export function selfPeakRssKiB(): number {
  return process.resourceUsage().maxRSS;
}
