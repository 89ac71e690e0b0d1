/**
 * The control-plane binaries built by `test/cluster/build.sh` into
 * `${FATHOM_CACHE:-~/.cache/fathom}/cluster/<version>/`, never into the repo.
 */
import { execFile } from 'node:child_process';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Component } from './processes.js';

/** The pinned Kubernetes release; go.mod and build.sh say the same (a test checks). */
export const KUBERNETES_VERSION = 'v1.36.3';

export const BUILD_SCRIPT = join(dirname(fileURLToPath(import.meta.url)), 'build.sh');
/** A cold build (empty Go caches, 2 cores) took 7 min here; leave room for slower machines. */
const BUILD_TIMEOUT_MS = 60 * 60_000;

export type ClusterBinaries = Readonly<Record<Component, string>> & {
  /** kwok's default Stage objects of the pinned version (kwok simulates nothing without them). */
  readonly kwokStages: string;
  readonly dir: string;
};

export type BinariesResult =
  | { readonly ok: true; readonly binaries: ClusterBinaries }
  | { readonly ok: false; readonly reason: string; readonly goMissing: boolean };

const FILES: Record<string, keyof ClusterBinaries> = {
  etcd: 'etcd',
  'kube-apiserver': 'kube-apiserver',
  'kube-controller-manager': 'kube-controller-manager',
  'kube-scheduler': 'kube-scheduler',
  kwok: 'kwok',
  'kwok-stages.yaml': 'kwokStages',
};

/** Reads build.sh's stdout: one absolute path per line. */
export function parseBuildOutput(stdout: string): ClusterBinaries {
  const found: Record<string, string> = {};
  for (const line of stdout.split('\n').map((l) => l.trim())) {
    const key = FILES[basename(line)];
    if (key && line.startsWith('/')) found[key] = line;
  }
  const missing = Object.values(FILES).filter((k) => !found[k]);
  if (missing.length > 0) throw new Error(`build.sh did not report: ${missing.join(', ')}`);
  return { ...(found as Record<Component | 'kwokStages', string>), dir: dirname(found.etcd!) };
}

function runBuild(
  args: string[],
  timeoutMs: number,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      'bash',
      [BUILD_SCRIPT, ...args],
      { timeout: timeoutMs, maxBuffer: 64 << 20 },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/**
 * The cached binaries; with `build` (the default) builds what is missing first, which needs
 * `go` and takes long when cold. Never throws: says why when the binaries cannot be had.
 */
export async function ensureClusterBinaries(
  options: { build?: boolean; timeoutMs?: number } = {},
): Promise<BinariesResult> {
  const check = await runBuild(['--check'], 30_000);
  if (check.code === 0) return { ok: true, binaries: parseBuildOutput(check.stdout) };
  if (options.build === false)
    return {
      ok: false,
      goMissing: false,
      reason: check.stderr.trim() || `build.sh --check exited ${check.code}`,
    };
  const built = await runBuild([], options.timeoutMs ?? BUILD_TIMEOUT_MS);
  if (built.code === 0) return { ok: true, binaries: parseBuildOutput(built.stdout) };
  if (built.code === 2) return { ok: false, goMissing: true, reason: built.stderr.trim() };
  return {
    ok: false,
    goMissing: false,
    reason: `build.sh exited ${built.code}:\n${built.stderr.trim().slice(-3000)}`,
  };
}
