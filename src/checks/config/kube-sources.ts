/**
 * Check configs from Kubernetes objects, as pure functions over the objects' plain JSON (the
 * adapter that lists and watches them lives in the Kubernetes backend):
 * - a ConfigMap labelled `fathom.dev/checks`: each `data` key ending in .yaml or .yml is read as
 *   a file (source `ConfigMap ns/name key:line`);
 * - a Service annotated `fathom.dev/check.<name>`: the value is one check document without
 *   `name`, a template over each ready endpoint address (the original's endpoints checks).
 */
import { FathomError } from '../../core/errors.js';
import type { FieldPath } from '../../core/yaml-locate.js';
import type { CheckConfig } from '../types.js';
import type { CheckDocument } from './parse.js';
import {
  checkError,
  checkNamePattern,
  decodeCheck,
  parseCheckText,
  readCheckDocuments,
  sourceError,
} from './parse.js';
import { checkLimits } from './limits.js';

export const checksLabel = 'fathom.dev/checks';
export const checkAnnotationPrefix = 'fathom.dev/check.';

export interface ObjectMetaLike {
  readonly name?: string;
  readonly namespace?: string;
  readonly labels?: Readonly<Record<string, string>>;
  readonly annotations?: Readonly<Record<string, string>>;
}

export interface ConfigMapLike {
  readonly metadata?: ObjectMetaLike;
  readonly data?: Readonly<Record<string, string>>;
}

export interface ServiceLike {
  readonly metadata?: ObjectMetaLike;
}

export interface PortLike {
  readonly name?: string;
  readonly port?: number;
}

/** core/v1 Endpoints. */
export interface EndpointsLike {
  readonly subsets?: readonly {
    readonly addresses?: readonly { readonly ip?: string; readonly nodeName?: string }[];
    readonly ports?: readonly PortLike[];
  }[];
}

/** discovery.k8s.io/v1 EndpointSlice. */
export interface EndpointSliceLike {
  readonly endpoints?: readonly {
    readonly addresses?: readonly string[];
    readonly conditions?: { readonly ready?: boolean };
    readonly nodeName?: string;
  }[];
  readonly ports?: readonly PortLike[];
}

/** One ready address of a Service, with its ports, and its node when a pod backs it. */
export interface EndpointTarget {
  readonly ip: string;
  readonly ports: readonly { readonly name?: string; readonly port: number }[];
  readonly nodeName?: string;
}

export interface SourceConfigs {
  readonly configs: readonly CheckConfig[];
  readonly errors: readonly FathomError[];
}

const objectName = (meta: ObjectMetaLike | undefined): string =>
  `${meta?.namespace ?? 'default'}/${meta?.name ?? ''}`;

/** The checks of a ConfigMap; one error per bad key, the other keys still load. */
export function configMapChecks(configMap: ConfigMapLike): SourceConfigs {
  if (configMap.metadata?.labels?.[checksLabel] === undefined) return { configs: [], errors: [] };
  const configs: CheckConfig[] = [];
  const errors: FathomError[] = [];
  const keys = Object.keys(configMap.data ?? {})
    .filter((k) => /\.ya?ml$/.test(k))
    .sort();
  for (const key of keys) {
    try {
      configs.push(
        ...parseCheckText(
          configMap.data![key]!,
          `ConfigMap ${objectName(configMap.metadata)} ${key}`,
        ),
      );
    } catch (err) {
      if (!(err instanceof FathomError)) throw err;
      errors.push(err);
    }
  }
  return { configs, errors };
}

function validPorts(ports: readonly PortLike[] | undefined): EndpointTarget['ports'] {
  return (ports ?? []).flatMap((p) =>
    typeof p.port === 'number' ? [{ port: p.port, ...(p.name ? { name: p.name } : {}) }] : [],
  );
}

/** The ready addresses of an Endpoints object (`notReadyAddresses` are left out). */
export function targetsOfEndpoints(endpoints: EndpointsLike): EndpointTarget[] {
  return (endpoints.subsets ?? []).flatMap((subset) =>
    (subset.addresses ?? []).flatMap((a) =>
      a.ip
        ? [
            {
              ip: a.ip,
              ports: validPorts(subset.ports),
              ...(a.nodeName ? { nodeName: a.nodeName } : {}),
            },
          ]
        : [],
    ),
  );
}

/** The ready addresses of a Service's EndpointSlices, each address once. */
export function targetsOfSlices(slices: readonly EndpointSliceLike[]): EndpointTarget[] {
  const seen = new Set<string>();
  const out: EndpointTarget[] = [];
  for (const slice of slices) {
    for (const endpoint of slice.endpoints ?? []) {
      if (endpoint.conditions?.ready === false) continue; // unset means ready
      for (const ip of endpoint.addresses ?? []) {
        if (seen.has(ip)) continue;
        seen.add(ip);
        const node = endpoint.nodeName ? { nodeName: endpoint.nodeName } : {};
        out.push({ ip, ports: validPorts(slice.ports), ...node });
      }
    }
  }
  return out;
}

/** Template variables of one target: `%%host%%`, `%%port%%` (the highest port), `%%port_<name>%%`. */
function variablesOf(target: EndpointTarget): Map<string, string | number> {
  const vars = new Map<string, string | number>([['host', target.ip]]);
  const ports = [...target.ports].sort((a, b) => a.port - b.port);
  if (ports.length > 0) vars.set('port', ports[ports.length - 1]!.port);
  for (const p of ports) if (p.name) vars.set(`port_${p.name}`, p.port);
  return vars;
}

const variable = /%%([A-Za-z0-9_-]+)%%/g;

/**
 * Substitutes template variables in every string of `value`. A string that is exactly one
 * variable takes its value's type (`port: "%%port%%"` becomes a number); inside a longer string
 * an IPv6 host is bracketed, as a URL needs. Returns the path of a variable it cannot fill.
 */
function substitute(
  value: unknown,
  vars: ReadonlyMap<string, string | number>,
  path: (string | number)[] = [],
): { value: unknown } | { missing: string; path: FieldPath } {
  if (typeof value === 'string') {
    const whole = /^%%([A-Za-z0-9_-]+)%%$/.exec(value);
    if (whole) {
      const v = vars.get(whole[1]!);
      return v === undefined ? { missing: whole[1]!, path } : { value: v };
    }
    let missing: string | undefined;
    const text = value.replace(variable, (_m, name: string) => {
      const v = vars.get(name);
      if (v === undefined) {
        missing ??= name;
        return '';
      }
      return name === 'host' && String(v).includes(':') ? `[${v}]` : String(v);
    });
    return missing === undefined ? { value: text } : { missing, path };
  }
  if (Array.isArray(value)) {
    const out: unknown[] = [];
    for (let i = 0; i < value.length; i++) {
      const r = substitute(value[i], vars, [...path, i]);
      if (!('value' in r)) return r;
      out.push(r.value);
    }
    return { value: out };
  }
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      const r = substitute(v, vars, [...path, k]);
      if (!('value' in r)) return r;
      out[k] = r.value;
    }
    return { value: out };
  }
  return { value };
}

/** Stands in for any endpoint, to check a template once even when there is none. */
const probe: EndpointTarget = { ip: '192.0.2.1', ports: [{ port: 1 }] };

function probeVariables(doc: CheckDocument): Map<string, string | number> {
  const vars = variablesOf(probe);
  // Named ports cannot be known without endpoints: accept any name in the probe.
  const names = JSON.stringify(doc.value).matchAll(/%%(port_[A-Za-z0-9_-]+)%%/g);
  for (const [, name] of names) vars.set(name!, 1);
  return vars;
}

/** One config from the template for `target` (or the probe). */
function instantiate(
  doc: CheckDocument,
  name: string,
  vars: ReadonlyMap<string, string | number>,
  source: string,
  node: string | undefined,
  /** Why a variable is missing; undefined for the probe, where no known variable is missing. */
  what: string | undefined,
): CheckConfig {
  const r = substitute(doc.value, vars);
  if (!('value' in r)) {
    const why = what ?? 'is not a template variable (%%host%%, %%port%%, %%port_<name>%%)';
    throw checkError(doc.ctx, r.path, `uses %%${r.missing}%%, which ${why}`);
  }
  return decodeCheck({ ctx: doc.ctx, value: r.value }, { name, source, ...(node ? { node } : {}) });
}

/**
 * The checks of a Service: for each `fathom.dev/check.<name>` annotation, one config per ready
 * endpoint address. A pod-backed address (it has a node) gives an endpoints check with `node`
 * set, served only to that node's agent; any other address gives an ordinary cluster check.
 */
export function serviceChecks(
  service: ServiceLike,
  targets: readonly EndpointTarget[],
): SourceConfigs {
  const configs: CheckConfig[] = [];
  const errors: FathomError[] = [];
  const service_ = `Service ${objectName(service.metadata)}`;
  const annotations = service.metadata?.annotations ?? {};
  const keys = Object.keys(annotations)
    .filter((k) => k.startsWith(checkAnnotationPrefix))
    .sort();
  let bounded = targets;
  if (targets.length > checkLimits.endpointAddresses) {
    bounded = targets.slice(0, checkLimits.endpointAddresses);
    errors.push(
      sourceError(
        service_,
        `has ${targets.length} endpoint addresses, over the limit of ${checkLimits.endpointAddresses}: only the first are checked`,
      ),
    );
  }
  for (const key of keys) {
    const file = `${service_} annotation ${key}`;
    const name = key.slice(checkAnnotationPrefix.length);
    try {
      if (!checkNamePattern.test(name)) {
        throw sourceError(
          file,
          `"${name}" is not a check name (lowercase letters, digits and '-', at most 63)`,
        );
      }
      const docs = readCheckDocuments(annotations[key]!, file);
      if (docs.length !== 1)
        throw sourceError(file, `must hold one check document, not ${docs.length}`);
      const doc = docs[0]!;
      instantiate(doc, name, probeVariables(doc), file, undefined, undefined);
      const seen = new Set<string>();
      for (const target of bounded) {
        try {
          const node = target.nodeName;
          const config = instantiate(
            doc,
            name,
            variablesOf(target),
            `${file} ${target.ip}`,
            node,
            `endpoint ${target.ip} does not have`,
          );
          // Addresses a template does not tell apart give one check, not one per address.
          if (seen.has(config.digest)) continue;
          seen.add(config.digest);
          configs.push(config);
        } catch (err) {
          if (!(err instanceof FathomError)) throw err;
          errors.push(err);
        }
      }
    } catch (err) {
      if (!(err instanceof FathomError)) throw err;
      errors.push(err);
    }
  }
  return { configs, errors };
}
