/**
 * The kstatus peer (`test/peers/kstatus/main.go`: the Go original's `status.Compute`), built by
 * `test/peers/kstatus/build.sh` into a cache outside the repo. Tests call `kstatusPeerBinary()`
 * and skip with `kstatusPeerUnavailableReason` when it is undefined; under CI they fail instead
 * (test/support/required.ts).
 */
import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** build.sh beside this file, or in the checkout above it when running compiled (bench/out). */
const BUILD_SCRIPT = ((): string => {
  const here = dirname(fileURLToPath(import.meta.url));
  for (let dir = here; ; dir = dirname(dir)) {
    for (const p of [
      join(dir, 'kstatus', 'build.sh'),
      join(dir, 'test', 'peers', 'kstatus', 'build.sh'),
    ]) {
      if (existsSync(p)) return p;
    }
    if (dirname(dir) === dir) return join(here, 'kstatus', 'build.sh');
  }
})();
/** A cold build downloads apimachinery and k8s.io/api: minutes on two cores. */
const BUILD_TIMEOUT_MS = 20 * 60_000;

/** Why `kstatusPeerBinary()` last returned undefined (for the skip message). */
export let kstatusPeerUnavailableReason = '';

/** One line of the peer's output, for one input object. */
export interface PeerOutput {
  readonly status?: string;
  readonly message?: string;
  /** Omitted by the peer when empty. */
  readonly conditions?: readonly {
    type: string;
    status: string;
    reason: string;
    message: string;
  }[];
  /** `Compute` returned an error (the poller reports Unknown with this text). */
  readonly error?: string;
  /** `Compute` panicked (the Go process would crash); the recovered value. */
  readonly panic?: string;
  /** The line is not a JSON object. */
  readonly decodeError?: string;
}

/** What `--bench N` prints. */
export interface PeerBench {
  readonly objects: number;
  readonly reps: number;
  readonly decodeNsPerObject: number;
  readonly computeNsPerObject: number[];
  readonly counts: Record<string, number>;
  readonly maxRssKiB: number;
}

let pending: Promise<string | undefined> | undefined;

async function build(): Promise<string | undefined> {
  try {
    const stdout = await new Promise<string>((resolve, reject) => {
      execFile('bash', [BUILD_SCRIPT], { timeout: BUILD_TIMEOUT_MS }, (err, out, stderr) =>
        // execFile's message already quotes stderr; keep just its tail.
        err ? reject(new Error(stderr.trim().slice(-2000) || err.message)) : resolve(out),
      );
    });
    const path = stdout.trim().split('\n').at(-1);
    if (path) return path;
    kstatusPeerUnavailableReason = `${BUILD_SCRIPT} printed no path`;
  } catch (err) {
    kstatusPeerUnavailableReason = `the kstatus peer is not available (it needs 'go' and the Go module proxy, or a cached build): ${(err as Error).message}`;
  }
  return undefined;
}

/**
 * The cached peer binary, building it when missing (build.sh only prints the path once built);
 * undefined when it cannot be had (see `kstatusPeerUnavailableReason`). Once per process.
 */
export function kstatusPeerBinary(): Promise<string | undefined> {
  pending ??= build();
  return pending;
}

/**
 * JSON that Go decodes to exactly the JS value: like JSON.stringify, except that integers (bigints,
 * and integral numbers below 1e21) are written as their exact digits. JSON.stringify(2 ** 63)
 * is "9223372036854776000", a different integer, which Go would read as an overflowing float64.
 */
export function toGoJson(value: unknown): string {
  if (typeof value === 'bigint') return value.toString();
  if (typeof value === 'number' && Number.isInteger(value) && Math.abs(value) < 1e21) {
    return BigInt(value).toString();
  }
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) {
    return `[${value.map((v) => (v === undefined ? 'null' : toGoJson(v))).join(',')}]`;
  }
  const parts: string[] = [];
  for (const [k, v] of Object.entries(value)) {
    if (v !== undefined) parts.push(`${JSON.stringify(k)}:${toGoJson(v)}`);
  }
  return `{${parts.join(',')}}`;
}

function run(binary: string, args: readonly string[], lines: Iterable<string>): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(binary, [...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: string[] = [];
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
    createInterface({ input: child.stdout, crlfDelay: Infinity }).on('line', (l) => out.push(l));
    child.once('error', reject);
    child.once('close', (code, signal) => {
      if (code === 0) resolve(out);
      else reject(new Error(`kstatus peer exited with ${code ?? signal}: ${stderr.slice(-2000)}`));
    });
    // Write with backpressure: 100,000 objects are tens of megabytes.
    const it = lines[Symbol.iterator]();
    const pump = (): void => {
      for (;;) {
        const next = it.next();
        if (next.done) {
          child.stdin.end();
          return;
        }
        if (!child.stdin.write(`${next.value}\n`)) {
          child.stdin.once('drain', pump);
          return;
        }
      }
    };
    child.stdin.on('error', reject);
    pump();
  });
}

/** Computes each object with the Go original: one output per object, in order. */
export function computeWithPeer(
  binary: string,
  objects: readonly unknown[],
): Promise<PeerOutput[]> {
  return computeLinesWithPeer(
    binary,
    objects.map((o) => toGoJson(o)),
  );
}

/** Computes each JSON line (one object each) with the Go original, in order. */
export async function computeLinesWithPeer(
  binary: string,
  lines: readonly string[],
): Promise<PeerOutput[]> {
  const out = await run(binary, [], lines);
  if (out.length !== lines.length) {
    throw new Error(`kstatus peer answered ${out.length} lines for ${lines.length} objects`);
  }
  return out.map((l) => JSON.parse(l) as PeerOutput);
}

/** `--bench reps` over JSON lines (already serialised with `toGoJson`). */
export async function benchPeer(
  binary: string,
  lines: Iterable<string>,
  reps: number,
): Promise<PeerBench> {
  const out = await run(binary, ['--bench', String(reps)], lines);
  return JSON.parse(out.join('\n')) as PeerBench;
}
