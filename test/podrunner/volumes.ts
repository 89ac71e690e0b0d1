/**
 * Volume contents. emptyDir is a directory shared by the pod's containers; secret, configMap,
 * downwardAPI and projected volumes are files written once from the API objects (they are not
 * refreshed when the objects change); hostPath is this machine's own path. `planVolume` is
 * pure; `writeVolume` puts a plan on disk.
 */
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { dirname, join, posix } from 'node:path';
import { fieldValue, objectData } from './env.js';
import type { ObjectLookup } from './env.js';
import type { DownwardApiFile, KeyToPath, Pod, Volume } from './types.js';

export interface VolumeFile {
  /** Relative to the volume's directory. */
  readonly path: string;
  readonly content: Buffer;
  readonly mode: number;
}

export type VolumePlan =
  | { readonly kind: 'dir' }
  | { readonly kind: 'host' }
  | { readonly kind: 'files'; readonly files: readonly VolumeFile[] }
  | { readonly kind: 'error'; readonly message: string };

/** A TokenRequest a projected serviceAccountToken source needs. */
export interface TokenSpec {
  readonly audience?: string;
  readonly expirationSeconds: number;
}

export const tokenKey = (t: TokenSpec): string => `${t.audience ?? ''}|${t.expirationSeconds}`;

const DEFAULT_MODE = 0o644;
const DEFAULT_TOKEN_SECONDS = 3600;

/** The tokens the pod's projected volumes ask for. */
export function tokenRequests(pod: Pod): TokenSpec[] {
  const out = new Map<string, TokenSpec>();
  for (const v of pod.spec.volumes ?? [])
    for (const s of v.projected?.sources ?? []) {
      const t = s.serviceAccountToken;
      if (!t) continue;
      const spec: TokenSpec = {
        ...(t.audience ? { audience: t.audience } : {}),
        expirationSeconds: t.expirationSeconds ?? DEFAULT_TOKEN_SECONDS,
      };
      out.set(tokenKey(spec), spec);
    }
  return [...out.values()];
}

class PlanError extends Error {}

function keyFiles(
  kind: 'Secret' | 'ConfigMap',
  name: string,
  data: Map<string, Buffer>,
  items: readonly KeyToPath[] | undefined,
  optional: boolean,
  mode: number,
): VolumeFile[] {
  if (!items?.length) return [...data].map(([key, content]) => ({ path: key, content, mode }));
  const out: VolumeFile[] = [];
  for (const item of items) {
    const content = data.get(item.key);
    if (content === undefined) {
      if (optional) continue;
      throw new PlanError(
        `${kind.toLowerCase()} ${name} references non-existent ${kind === 'Secret' ? 'secret' : 'config'} key: ${item.key}`,
      );
    }
    out.push({ path: item.path, content, mode: item.mode ?? mode });
  }
  return out;
}

function objectBytes(
  kind: 'Secret' | 'ConfigMap',
  name: string,
  objects: ObjectLookup,
  optional: boolean,
): Map<string, Buffer> | undefined {
  const obj = kind === 'Secret' ? objects.secret(name) : objects.configMap(name);
  if (!obj) {
    if (optional) return undefined;
    throw new PlanError(`${kind.toLowerCase()} "${name}" not found`);
  }
  const out = new Map<string, Buffer>();
  for (const [k, v] of objectData(kind, obj)) out.set(k, Buffer.from(v, 'utf8'));
  if (kind === 'ConfigMap')
    for (const [k, v] of Object.entries(
      (obj as { binaryData?: Record<string, string> }).binaryData ?? {},
    ))
      out.set(k, Buffer.from(v, 'base64'));
  return out;
}

/** `key="value"` lines, sorted, as the downward API writes whole label and annotation maps. */
function formatMap(map: Record<string, string> | undefined): string {
  return Object.keys(map ?? {})
    .sort()
    .map((k) => `${k}=${JSON.stringify(map![k])}`)
    .join('\n');
}

function downwardFiles(pod: Pod, items: readonly DownwardApiFile[], mode: number): VolumeFile[] {
  return items.map((item) => {
    if (!item.fieldRef)
      throw new PlanError(`downwardAPI ${item.path}: only fieldRef is supported by the pod runner`);
    const path = item.fieldRef.fieldPath;
    const value =
      path === 'metadata.labels' || path === 'metadata.annotations'
        ? formatMap(pod.metadata[path === 'metadata.labels' ? 'labels' : 'annotations'])
        : fieldValue(pod, path);
    if (value === undefined) throw new PlanError(`downwardAPI: unsupported fieldPath ${path}`);
    return { path: item.path, content: Buffer.from(value, 'utf8'), mode: item.mode ?? mode };
  });
}

/** What `volume` holds for `pod`; `token` answers the TokenRequests from `tokenRequests`. */
export function planVolume(
  pod: Pod,
  volume: Volume,
  objects: ObjectLookup,
  token: (spec: TokenSpec) => string | undefined,
): VolumePlan {
  try {
    if (volume.emptyDir) return { kind: 'dir' };
    if (volume.hostPath) return { kind: 'host' };
    if (volume.secret) {
      const name = volume.secret.secretName ?? '';
      const optional = volume.secret.optional ?? false;
      const data = objectBytes('Secret', name, objects, optional) ?? new Map<string, Buffer>();
      const mode = volume.secret.defaultMode ?? DEFAULT_MODE;
      return {
        kind: 'files',
        files: keyFiles('Secret', name, data, volume.secret.items, optional, mode),
      };
    }
    if (volume.configMap) {
      const name = volume.configMap.name ?? '';
      const optional = volume.configMap.optional ?? false;
      const data = objectBytes('ConfigMap', name, objects, optional) ?? new Map<string, Buffer>();
      const mode = volume.configMap.defaultMode ?? DEFAULT_MODE;
      const files = keyFiles('ConfigMap', name, data, volume.configMap.items, optional, mode);
      return { kind: 'files', files };
    }
    if (volume.downwardAPI) {
      const mode = volume.downwardAPI.defaultMode ?? DEFAULT_MODE;
      return { kind: 'files', files: downwardFiles(pod, volume.downwardAPI.items ?? [], mode) };
    }
    if (volume.projected) {
      const mode = volume.projected.defaultMode ?? DEFAULT_MODE;
      const files: VolumeFile[] = [];
      for (const s of volume.projected.sources ?? []) {
        if (s.secret || s.configMap) {
          const kind = s.secret ? 'Secret' : 'ConfigMap';
          const src = (s.secret ?? s.configMap)!;
          const optional = src.optional ?? false;
          const data = objectBytes(kind, src.name, objects, optional) ?? new Map<string, Buffer>();
          files.push(...keyFiles(kind, src.name, data, src.items, optional, mode));
        } else if (s.downwardAPI) {
          files.push(...downwardFiles(pod, s.downwardAPI.items ?? [], mode));
        } else if (s.serviceAccountToken) {
          const t = s.serviceAccountToken;
          const spec = {
            ...(t.audience ? { audience: t.audience } : {}),
            expirationSeconds: t.expirationSeconds ?? DEFAULT_TOKEN_SECONDS,
          };
          const value = token(spec);
          if (value === undefined) throw new PlanError('no service account token');
          files.push({ path: t.path, content: Buffer.from(value, 'utf8'), mode });
        } else {
          throw new PlanError('a projected source the pod runner does not support');
        }
      }
      return { kind: 'files', files };
    }
    return {
      kind: 'error',
      message: `volume ${volume.name}: its type is not supported by the pod runner`,
    };
  } catch (err) {
    if (err instanceof PlanError)
      return {
        kind: 'error',
        message: `MountVolume.SetUp failed for volume "${volume.name}": ${err.message}`,
      };
    throw err;
  }
}

/** Puts a plan's directory and files under `dir` (nothing for hostPath). */
export async function writeVolume(dir: string, plan: VolumePlan): Promise<void> {
  if (plan.kind === 'host' || plan.kind === 'error') return;
  await mkdir(dir, { recursive: true });
  if (plan.kind === 'dir') return;
  for (const f of plan.files) {
    const rel = posix.normalize(f.path);
    if (rel.startsWith('/') || rel === '..' || rel.startsWith('../'))
      throw new Error(`volume file ${f.path}: escapes the volume`);
    const path = join(dir, rel);
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, f.content);
    await chmod(path, f.mode);
  }
}
