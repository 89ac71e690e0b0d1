/**
 * What the cluster snapshot collects, as Sonobuoy's config says it (reference c.6): `Resources`
 * (null = every listable resource but secrets; a list = exactly those resource names, plus the
 * special names `podlogs`, `servergroups`, `serverversion`; `nodes` also gates the hosts data),
 * `Filters` (a namespace regexp and a label selector for the resource lists) and `Limits.PodLogs`
 * (whose pods' logs, and how much of each). Checked once where it enters (a flag, the aggregator's
 * config, a past run's meta/config.json), then frozen.
 */
import { readFile } from 'node:fs/promises';
import { FathomError, type ErrorCode } from '../core/errors.js';
import { deepFreeze } from '../core/validated.js';

export interface PodLogLimits {
  /** A regexp (matched anywhere in the name, as Go's MatchString) for the namespaces. */
  readonly Namespaces: string;
  /** Also the run's own namespace. */
  readonly SonobuoyNamespace: boolean;
  /** Each selects pods across all namespaces (ORed); the label selector still applies. */
  readonly FieldSelectors: readonly string[];
  readonly LabelSelector: string;
  readonly Previous: boolean;
  readonly SinceSeconds: number | null;
  readonly SinceTime: string | null;
  readonly Timestamps: boolean;
  readonly TailLines: number | null;
  readonly LimitBytes: number | null;
}

export interface SnapshotConfig {
  /** null: everything listable except secrets. */
  readonly Resources: readonly string[] | null;
  readonly Filters: { readonly Namespaces: string; readonly LabelSelector: string };
  readonly Limits: { readonly PodLogs: PodLogLimits };
}

/**
 * fathom bounds every container log it collects: Sonobuoy reads whole logs, and one chatty
 * container could otherwise fill the aggregator's disk. `LimitBytes` in the config overrides it.
 */
export const DEFAULT_POD_LOG_LIMIT_BYTES = 8 * 1024 * 1024;

export const DEFAULT_SNAPSHOT_CONFIG: SnapshotConfig = deepFreeze({
  Resources: null,
  Filters: { Namespaces: '.*', LabelSelector: '' },
  Limits: {
    PodLogs: {
      Namespaces: 'kube-system',
      SonobuoyNamespace: true,
      FieldSelectors: [],
      LabelSelector: '',
      Previous: false,
      SinceSeconds: null,
      SinceTime: null,
      Timestamps: false,
      TailLines: null,
      LimitBytes: DEFAULT_POD_LOG_LIMIT_BYTES,
    },
  },
});

/** Whether `Resources` asks for `name` (null asks for everything). */
export function wants(config: SnapshotConfig, name: string): boolean {
  return config.Resources === null || config.Resources.includes(name);
}

const RESOURCE_NAME = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;

/** `--resources pods,nodes,podlogs`: a list of resource names (lower-case plurals). */
export function parseResources(text: string, flag = '--resources'): string[] {
  const names = text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  for (const n of names) {
    if (!RESOURCE_NAME.test(n)) {
      throw new FathomError(
        'FATHOM_BAD_FLAG_VALUE',
        `${flag}: "${n}" is not a resource name (a lower-case plural such as pods, or podlogs, servergroups, serverversion)`,
        { details: { flag, value: n } },
      );
    }
  }
  if (names.length === 0) {
    throw new FathomError('FATHOM_BAD_FLAG_VALUE', `${flag}: expected resource names, got none`, {
      details: { flag, value: text },
    });
  }
  return [...new Set(names)];
}

// Label keys and values as Kubernetes validates them (labels.Parse).
const LABEL_NAME = /^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const LABEL_PREFIX = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/;
const LABEL_VALUE = /^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$/;

function isLabelKey(key: string): boolean {
  const slash = key.lastIndexOf('/');
  if (slash < 0) return LABEL_NAME.test(key);
  return LABEL_PREFIX.test(key.slice(0, slash)) && LABEL_NAME.test(key.slice(slash + 1));
}

/** Splits at commas outside parentheses. */
function requirements(selector: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < selector.length; i++) {
    const c = selector[i];
    if (c === '(') depth++;
    else if (c === ')') depth--;
    else if (c === ',' && depth === 0) {
      out.push(selector.slice(start, i));
      start = i + 1;
    }
  }
  out.push(selector.slice(start));
  return out.map((r) => r.trim());
}

/** Why `selector` is not a label selector (Kubernetes' syntax), or undefined when it is one. */
export function labelSelectorProblem(selector: string): string | undefined {
  if (selector.trim() === '') return undefined;
  for (const req of requirements(selector)) {
    if (req === '') return 'an empty requirement';
    let m = /^!\s*(\S+)$/.exec(req);
    if (m) {
      if (!isLabelKey(m[1]!)) return `"${m[1]}" is not a label key`;
      continue;
    }
    m = /^(\S+?)\s+(in|notin)\s*\((.*)\)$/.exec(req);
    if (m) {
      if (!isLabelKey(m[1]!)) return `"${m[1]}" is not a label key`;
      for (const v of m[3]!.split(',').map((s) => s.trim())) {
        if (!LABEL_VALUE.test(v)) return `"${v}" is not a label value`;
      }
      continue;
    }
    m = /^([^=!<>\s]+)\s*(==|=|!=|<|>)\s*(\S*)$/.exec(req);
    if (m) {
      if (!isLabelKey(m[1]!)) return `"${m[1]}" is not a label key`;
      if (m[2] === '<' || m[2] === '>') {
        if (!/^-?\d+$/.test(m[3]!)) return `"${m[3]}" is not a whole number`;
      } else if (!LABEL_VALUE.test(m[3]!)) return `"${m[3]}" is not a label value`;
      continue;
    }
    if (isLabelKey(req)) continue;
    return `"${req}" is not a requirement (key, !key, key=value, key!=value, key in (…), key notin (…))`;
  }
  return undefined;
}

/** Why `pattern` is not a usable regexp, or undefined. */
function regexpProblem(pattern: string): string | undefined {
  try {
    new RegExp(pattern);
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
}

/** Where a config came from, for its error messages. */
export interface ConfigSource {
  /** Prefix of every message: `--resources`, `meta/config.json`. */
  readonly where: string;
  readonly code: ErrorCode;
}

type Obj = Record<string, unknown>;

function fail(source: ConfigSource, field: string, problem: string): never {
  throw new FathomError(source.code, `${source.where}: ${field}: ${problem}`, {
    details: { field },
  });
}

function isObj(v: unknown): v is Obj {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/**
 * A snapshot config from Sonobuoy's config JSON keys (`Resources`, `Filters`, `Limits.PodLogs`),
 * absent keys taking Sonobuoy's defaults (LimitBytes fathom's). Checked and frozen: an
 * unparseable regexp or selector, or SinceSeconds with SinceTime, is an error naming the field.
 */
export function readSnapshotConfig(value: unknown, source: ConfigSource): SnapshotConfig {
  const root = isObj(value) ? value : fail(source, '(root)', 'must be an object');
  const d = DEFAULT_SNAPSHOT_CONFIG;
  const str = (v: unknown, field: string, dflt: string): string =>
    v === undefined || v === null
      ? dflt
      : typeof v === 'string'
        ? v
        : fail(source, field, 'must be a string');
  const bool = (v: unknown, field: string, dflt: boolean): boolean =>
    v === undefined || v === null
      ? dflt
      : typeof v === 'boolean'
        ? v
        : fail(source, field, 'must be true or false');
  const int = (v: unknown, field: string, dflt: number | null): number | null =>
    v === undefined
      ? dflt
      : v === null
        ? null
        : Number.isInteger(v) && (v as number) >= 0
          ? (v as number)
          : fail(source, field, 'must be a whole number');
  const strings = (v: unknown, field: string): string[] | null => {
    if (v === undefined || v === null) return null;
    if (!Array.isArray(v) || v.some((s) => typeof s !== 'string'))
      return fail(source, field, 'must be a list of strings');
    return v as string[];
  };

  const resources = strings(root.Resources, 'Resources');
  for (const r of resources ?? []) {
    if (!RESOURCE_NAME.test(r)) fail(source, 'Resources', `"${r}" is not a resource name`);
  }
  const filters = isObj(root.Filters) ? root.Filters : {};
  const limits = isObj(root.Limits) && isObj(root.Limits.PodLogs) ? root.Limits.PodLogs : {};
  const dl = d.Limits.PodLogs;
  const config: SnapshotConfig = {
    Resources: resources,
    Filters: {
      Namespaces: str(filters.Namespaces, 'Filters.Namespaces', d.Filters.Namespaces),
      LabelSelector: str(filters.LabelSelector, 'Filters.LabelSelector', ''),
    },
    Limits: {
      PodLogs: {
        Namespaces: str(limits.Namespaces, 'Limits.PodLogs.Namespaces', dl.Namespaces),
        SonobuoyNamespace: bool(
          limits.SonobuoyNamespace,
          'Limits.PodLogs.SonobuoyNamespace',
          dl.SonobuoyNamespace,
        ),
        FieldSelectors: strings(limits.FieldSelectors, 'Limits.PodLogs.FieldSelectors') ?? [],
        LabelSelector: str(limits.LabelSelector, 'Limits.PodLogs.LabelSelector', ''),
        Previous: bool(limits.Previous, 'Limits.PodLogs.Previous', false),
        SinceSeconds: int(limits.SinceSeconds, 'Limits.PodLogs.SinceSeconds', null),
        SinceTime:
          limits.SinceTime === undefined || limits.SinceTime === null
            ? null
            : str(limits.SinceTime, 'Limits.PodLogs.SinceTime', ''),
        Timestamps: bool(limits.Timestamps, 'Limits.PodLogs.Timestamps', false),
        TailLines: int(limits.TailLines, 'Limits.PodLogs.TailLines', null),
        LimitBytes: int(limits.LimitBytes, 'Limits.PodLogs.LimitBytes', dl.LimitBytes),
      },
    },
  };
  checkSnapshotConfig(config, source);
  return deepFreeze(config);
}

/** Throws when a regexp or selector cannot be used; names the field. */
export function checkSnapshotConfig(config: SnapshotConfig, source: ConfigSource): void {
  const pl = config.Limits.PodLogs;
  for (const [field, pattern] of [
    ['Filters.Namespaces', config.Filters.Namespaces],
    ['Limits.PodLogs.Namespaces', pl.Namespaces],
  ] as const) {
    const problem = regexpProblem(pattern);
    if (problem) fail(source, field, `not a regular expression: ${problem}`);
  }
  for (const [field, selector] of [
    ['Filters.LabelSelector', config.Filters.LabelSelector],
    ['Limits.PodLogs.LabelSelector', pl.LabelSelector],
  ] as const) {
    const problem = labelSelectorProblem(selector);
    if (problem) fail(source, field, `not a label selector: ${problem}`);
  }
  if (pl.SinceSeconds !== null && pl.SinceTime !== null) {
    fail(source, 'Limits.PodLogs', 'give SinceSeconds or SinceTime, not both');
  }
  if (pl.SinceTime !== null && Number.isNaN(Date.parse(pl.SinceTime))) {
    fail(source, 'Limits.PodLogs.SinceTime', `"${pl.SinceTime}" is not an RFC 3339 time`);
  }
}

/**
 * `--config FILE`: a Sonobuoy config JSON (what `sonobuoy gen config` prints); fathom reads its
 * `Resources`, `Filters` and `Limits.PodLogs`, the keys that shape the snapshot.
 */
export async function readSnapshotConfigFile(
  file: string,
  flag = '--config',
): Promise<SnapshotConfig> {
  const where = `${flag} ${file}`;
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new FathomError('FATHOM_BAD_FLAG_VALUE', `${where}: ${(err as Error).message}`, {
      details: { flag, value: file },
    });
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new FathomError(
      'FATHOM_BAD_FLAG_VALUE',
      `${where}: not JSON (${(err as Error).message})`,
      {
        details: { flag, value: file },
      },
    );
  }
  return readSnapshotConfig(value, { where, code: 'FATHOM_BAD_FLAG_VALUE' });
}

/**
 * The config a run uses: `--config`'s, else a past run's (`--from`), else the defaults, with
 * `--resources` over it; undefined when none is given (the backend's defaults apply).
 */
export function snapshotConfigFor(
  past: SnapshotConfig | undefined,
  resources: readonly string[] | undefined,
): SnapshotConfig | undefined {
  if (!past && !resources) return undefined;
  const base = past ?? DEFAULT_SNAPSHOT_CONFIG;
  return deepFreeze({ ...base, ...(resources ? { Resources: [...resources] } : {}) });
}

/** The keys meta/config.json carries for the snapshot, as Sonobuoy writes them. */
export function sonobuoyConfigKeys(config: SnapshotConfig): Obj {
  return { Resources: config.Resources, Filters: config.Filters, Limits: config.Limits };
}
