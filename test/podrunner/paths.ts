/**
 * Volumes for local processes. A container cannot see its volumes at their mountPaths (there
 * is no mount namespace), so the runner maps each mountPath to a directory on this machine:
 *
 * - emptyDir, secret, configMap, projected, downwardAPI → `<podDir>/volumes/<volume>`
 * - hostPath → its own path (the "node" is this machine)
 * - `subPath` is appended to the volume's directory.
 *
 * The pod spec's own strings are then rewritten: in `command`, `args`, `workingDir` and
 * literal env `value`s, a mountPath (longest first) at the start of the text or after one of
 * `= : , ' "` or whitespace, and ending the text or followed by `/`, whitespace or one of
 * `' " : , ; )`, is replaced by its directory. So `/tmp/sonobuoy/results/done` becomes
 * `<podDir>/volumes/results/done` and `--config=/etc/cfg/a.json` is rewritten too. Values read
 * from Secrets, ConfigMaps or the downward API are data and are never rewritten; a mount at
 * `/` is never rewritten. For paths a program builds itself, each container also gets a
 * root directory (`FATHOM_POD_ROOT`) with a symlink at every mountPath: `$FATHOM_POD_ROOT/x`
 * is the file a real container would see at `/x`.
 */
import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { basename, join, posix } from 'node:path';
import type { Container, Pod } from './types.js';

export interface MountTarget {
  /** Normalised: no trailing slash. */
  readonly mountPath: string;
  /** The directory (or file) on this machine. */
  readonly target: string;
  /** Targets outside the pod dir: never create anything under them. */
  readonly hostPath: boolean;
}

export const volumeDir = (podDir: string, volume: string): string =>
  join(podDir, 'volumes', volume);

/** The root directory with mount symlinks for one container. */
export const containerRoot = (podDir: string, container: string): string =>
  join(podDir, 'roots', container);

function normalise(path: string): string {
  const p = posix.normalize(path);
  return p.length > 1 && p.endsWith('/') ? p.slice(0, -1) : p;
}

/** Where each of `container`'s volumeMounts is on this machine; mounts of unknown volumes are left out. */
export function mountTargets(pod: Pod, container: Container, podDir: string): MountTarget[] {
  const volumes = new Map((pod.spec.volumes ?? []).map((v) => [v.name, v]));
  const out: MountTarget[] = [];
  for (const m of container.volumeMounts ?? []) {
    const volume = volumes.get(m.name);
    if (!volume || !m.mountPath.startsWith('/')) continue;
    const hostPath = volume.hostPath !== undefined;
    const base = hostPath ? normalise(volume.hostPath!.path) : volumeDir(podDir, m.name);
    out.push({
      mountPath: normalise(m.mountPath),
      target: m.subPath ? join(base, m.subPath) : base,
      hostPath,
    });
  }
  return out;
}

const escapeRegExp = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** The path rewrite for one container's mounts (see the module comment for the rule). */
export function createRewriter(mounts: readonly MountTarget[]): (text: string) => string {
  const byPath = new Map<string, string>();
  for (const m of mounts) if (m.mountPath !== '/') byPath.set(m.mountPath, m.target);
  if (byPath.size === 0) return (text) => text;
  // Longest first: the regex tries alternatives in order and backtracks when the lookahead fails.
  const alternatives = [...byPath.keys()].sort((a, b) => b.length - a.length).map(escapeRegExp);
  const re = new RegExp(`(^|[\\s=:,'"])(${alternatives.join('|')})(?=$|[/\\s'":,;)])`, 'g');
  return (text) =>
    text.replace(re, (all: string, before: string, path: string, at: number) => {
      const target = byPath.get(path)!;
      // hostPath `/` mounted at /node: `/node/var/log` is `/var/log`, not `//var/log`.
      const slashFollows = text[at + all.length] === '/';
      return before + (target === '/' && slashFollows ? '' : target);
    });
}

/**
 * The symlinks of a container root: `<root><mountPath>` → target, shortest mountPath first
 * (so parents exist), leaving out `/` and anything under a hostPath mount (which would write
 * into this machine's own directories).
 */
export function rootLinks(
  mounts: readonly MountTarget[],
  root: string,
): { link: string; target: string }[] {
  const hostMounts = mounts.filter((m) => m.hostPath).map((m) => m.mountPath);
  const under = (path: string, parent: string): boolean =>
    parent === '/' || path.startsWith(`${parent}/`);
  return [...mounts]
    .filter((m) => m.mountPath !== '/' && !hostMounts.some((h) => under(m.mountPath, h)))
    .sort((a, b) => a.mountPath.length - b.mountPath.length)
    .map((m) => ({ link: join(root, m.mountPath), target: m.target }));
}

async function isExecutableFile(path: string): Promise<boolean> {
  try {
    await access(path, constants.X_OK);
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

/**
 * Finds `command[0]`. A bare name is looked up in `searchDirs` (pathPrepend, then PATH). A
 * path is used if it exists; otherwise, since images are not run, an absolute path such as
 * `/usr/local/bin/fathom` falls back to its base name in `prependDirs` only (the test's shims).
 */
export async function findExecutable(
  command: string,
  searchDirs: readonly string[],
  prependDirs: readonly string[],
): Promise<string | undefined> {
  if (command.includes('/')) {
    if (await isExecutableFile(command)) return command;
    if (!command.startsWith('/')) return undefined;
    for (const dir of prependDirs) {
      const candidate = join(dir, basename(command));
      if (await isExecutableFile(candidate)) return candidate;
    }
    return undefined;
  }
  for (const dir of searchDirs) {
    if (!dir) continue;
    const candidate = join(dir, command);
    if (await isExecutableFile(candidate)) return candidate;
  }
  return undefined;
}
