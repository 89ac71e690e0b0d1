/**
 * A container's environment as the kubelet builds it: the runner's base variables, then
 * `envFrom` sources in order, then `env` entries (literal values with `$(VAR)` expansion,
 * downward-API fields, Secret and ConfigMap keys). Pure: the Secrets and ConfigMaps are
 * fetched beforehand and passed in.
 */
import type { ConfigMap, Container, Pod, Secret } from './types.js';

/** The Secrets and ConfigMaps of the pod's namespace that the pod refers to; undefined = not found. */
export interface ObjectLookup {
  secret(name: string): Secret | undefined;
  configMap(name: string): ConfigMap | undefined;
}

export type EnvResult =
  | { readonly ok: true; readonly env: Record<string, string> }
  /** The kubelet's CreateContainerConfigError, with its message. */
  | { readonly ok: false; readonly message: string };

/** Every Secret and ConfigMap name the pod's env and volumes mention. */
export function referencedObjects(pod: Pod): { secrets: string[]; configMaps: string[] } {
  const secrets = new Set<string>();
  const configMaps = new Set<string>();
  for (const c of [...(pod.spec.initContainers ?? []), ...pod.spec.containers]) {
    for (const e of c.env ?? []) {
      if (e.valueFrom?.secretKeyRef) secrets.add(e.valueFrom.secretKeyRef.name);
      if (e.valueFrom?.configMapKeyRef) configMaps.add(e.valueFrom.configMapKeyRef.name);
    }
    for (const f of c.envFrom ?? []) {
      if (f.secretRef) secrets.add(f.secretRef.name);
      if (f.configMapRef) configMaps.add(f.configMapRef.name);
    }
  }
  for (const v of pod.spec.volumes ?? []) {
    if (v.secret?.secretName) secrets.add(v.secret.secretName);
    if (v.configMap?.name) configMaps.add(v.configMap.name);
    for (const s of v.projected?.sources ?? []) {
      if (s.secret) secrets.add(s.secret.name);
      if (s.configMap) configMaps.add(s.configMap.name);
    }
  }
  return { secrets: [...secrets].sort(), configMaps: [...configMaps].sort() };
}

const SUBSCRIPT = /^metadata\.(labels|annotations)\['(.*)'\]$/;

/** A downward-API field of `pod` (its status must already carry the runner's IPs). */
export function fieldValue(pod: Pod, fieldPath: string): string | undefined {
  const m = SUBSCRIPT.exec(fieldPath);
  if (m) return pod.metadata[m[1] as 'labels' | 'annotations']?.[m[2]!] ?? '';
  switch (fieldPath) {
    case 'metadata.name':
      return pod.metadata.name;
    case 'metadata.namespace':
      return pod.metadata.namespace ?? '';
    case 'metadata.uid':
      return pod.metadata.uid ?? '';
    case 'spec.nodeName':
      return pod.spec.nodeName ?? '';
    case 'spec.serviceAccountName':
      return pod.spec.serviceAccountName ?? '';
    case 'status.podIP':
    case 'status.podIPs':
      return pod.status?.podIP ?? '';
    case 'status.hostIP':
    case 'status.hostIPs':
      return pod.status?.hostIP ?? '';
    default:
      return undefined;
  }
}

/** `$(VAR)` expansion as Kubernetes does it: unknown names stay as written, `$$` is a `$`. */
export function expandVars(text: string, lookup: (name: string) => string | undefined): string {
  let out = '';
  for (let i = 0; i < text.length;) {
    const ch = text[i]!;
    if (ch !== '$' || i + 1 >= text.length) {
      out += ch;
      i++;
      continue;
    }
    const next = text[i + 1]!;
    if (next === '$') {
      out += '$';
      i += 2;
    } else if (next === '(') {
      const close = text.indexOf(')', i + 2);
      if (close < 0) {
        out += text.slice(i);
        break;
      }
      const name = text.slice(i + 2, close);
      out += lookup(name) ?? `$(${name})`;
      i = close + 1;
    } else {
      out += `$${next}`;
      i += 2;
    }
  }
  return out;
}

const decode = (b64: string): string => Buffer.from(b64, 'base64').toString('utf8');

/** A Secret's or ConfigMap's string values. */
export function objectData(
  kind: 'Secret' | 'ConfigMap',
  obj: Secret | ConfigMap,
): Map<string, string> {
  const out = new Map<string, string>();
  for (const [k, v] of Object.entries(obj.data ?? {}))
    out.set(k, kind === 'Secret' ? decode(v) : v);
  return out;
}

/**
 * Resolves `container`'s environment over `base`. `rewrite` is applied to literal `value`s
 * only (see paths.ts). A missing non-optional Secret, ConfigMap or key is an error.
 */
export function resolveEnv(
  pod: Pod,
  container: Container,
  objects: ObjectLookup,
  base: Readonly<Record<string, string>>,
  rewrite: (text: string) => string = (t) => t,
): EnvResult {
  const ns = pod.metadata.namespace ?? '';
  const env: Record<string, string> = {};
  const lookup = (kind: 'Secret' | 'ConfigMap', name: string): Map<string, string> | undefined => {
    const obj = kind === 'Secret' ? objects.secret(name) : objects.configMap(name);
    return obj && objectData(kind, obj);
  };
  const notFound = (kind: 'Secret' | 'ConfigMap', name: string): EnvResult => ({
    ok: false,
    message: `${kind.toLowerCase()} "${name}" not found`,
  });

  for (const from of container.envFrom ?? []) {
    const kind = from.secretRef ? 'Secret' : 'ConfigMap';
    const ref = from.secretRef ?? from.configMapRef;
    if (!ref) continue;
    const data = lookup(kind, ref.name);
    if (!data) {
      if (ref.optional) continue;
      return notFound(kind, ref.name);
    }
    for (const [k, v] of data) if (!k.includes('=')) env[`${from.prefix ?? ''}${k}`] = v;
  }

  for (const e of container.env ?? []) {
    const from = e.valueFrom;
    if (!from) {
      env[e.name] = rewrite(expandVars(e.value ?? '', (n) => env[n] ?? base[n]));
      continue;
    }
    if (from.fieldRef) {
      const value = fieldValue(pod, from.fieldRef.fieldPath);
      if (value === undefined)
        return { ok: false, message: `unsupported fieldPath ${from.fieldRef.fieldPath}` };
      env[e.name] = value;
      continue;
    }
    const sel = from.secretKeyRef ?? from.configMapKeyRef;
    if (sel) {
      const kind = from.secretKeyRef ? 'Secret' : 'ConfigMap';
      const data = lookup(kind, sel.name);
      if (!data) {
        if (sel.optional) continue;
        return notFound(kind, sel.name);
      }
      const value = data.get(sel.key);
      if (value === undefined) {
        if (sel.optional) continue;
        return { ok: false, message: `couldn't find key ${sel.key} in ${kind} ${ns}/${sel.name}` };
      }
      env[e.name] = value;
      continue;
    }
    return {
      ok: false,
      message: `env ${e.name}: resourceFieldRef is not supported by the pod runner`,
    };
  }
  return { ok: true, env: { ...base, ...env } };
}
