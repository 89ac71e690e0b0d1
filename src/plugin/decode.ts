import type { Driver, EnvVar, PluginContainer, PluginDefinition, ResultFormat } from './types.js';
import type {
  NodeSelectorOperator,
  NodeSelectorRequirement,
  NodeSelectorTerm,
  TaintEffect,
  Toleration,
} from '../core/nodes.js';
import { defaultTolerations } from './tolerations.js';
import {
  configMapKeyProblem,
  deepFreeze,
  envNameProblem,
  isYamlConfigKey,
  pluginNameProblem,
  yamlContentError,
} from './names.js';
import type { JsonSizeProblem } from '../core/bounded.js';
import { formatBytes, jsonSize } from '../core/bounded.js';
import { configYamlProblem, pluginLimits } from './limits.js';
import type { DocContext, FieldPath } from '../core/yaml-locate.js';
import { fieldError, locatedMessage, positionOf } from '../core/yaml-locate.js';

type Obj = Record<string, unknown>;

const formats: readonly ResultFormat[] = ['junit', 'e2e', 'gojson', 'raw', 'manual'];
const operators: readonly NodeSelectorOperator[] = [
  'In',
  'NotIn',
  'Exists',
  'DoesNotExist',
  'Gt',
  'Lt',
];

/** One decoded document: the definition, its warnings and where its plugin-name is written. */
export interface DecodedPlugin {
  readonly plugin: PluginDefinition;
  readonly warnings: readonly string[];
  /** `file:line:col` of the plugin-name, for duplicate reports. */
  readonly nameAt: string;
}

function kindOf(v: unknown): string {
  if (v === null || v === undefined) return 'empty';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  if (typeof v === 'string') return 'a string';
  if (typeof v === 'boolean') return `true/false (${v})`;
  if (typeof v === 'number') return `a number (${v})`;
  return typeof v;
}

/** YAML reads `true`, `8080` or `1.10` as non-strings; quoting is the usual fix. */
const quoteHint = (v: unknown): string =>
  typeof v === 'number' || typeof v === 'boolean' ? '; quote the value to make it a string' : '';

const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);

/** Type-checked access to a document's values; every failure names file, line, column and field. */
class Reader {
  constructor(readonly ctx: DocContext) {}

  fail(path: FieldPath, problem: string): never {
    throw fieldError(this.ctx, path, problem);
  }

  /** FATHOM_PLUGIN_TOO_LARGE when `bytes` is over `limit` (a JsonSizeProblem: it stopped early). */
  bound(path: FieldPath, bytes: number | JsonSizeProblem, limit: number, what: string): void {
    if (typeof bytes === 'number' && bytes <= limit) return;
    const size = typeof bytes === 'number' ? ` ${bytes} bytes,` : '';
    const problem =
      bytes === 'depth'
        ? `nests mappings and lists deeper than ${pluginLimits.nestingDepth} levels, the limit`
        : `${what}${size} over the ${formatBytes(limit)} limit`;
    throw fieldError(this.ctx, path, problem, 'FATHOM_PLUGIN_TOO_LARGE');
  }

  /** Undefined for a missing or null field (Go's decoder leaves the zero value). */
  map(path: FieldPath, v: unknown): Obj | undefined {
    if (v === null || v === undefined) return undefined;
    if (!isObj(v)) this.fail(path, `must be a mapping, not ${kindOf(v)}`);
    return v;
  }

  requiredMap(path: FieldPath, v: unknown, what: string): Obj {
    return this.map(path, v) ?? this.fail(path, `is required (${what})`);
  }

  list(path: FieldPath, v: unknown): unknown[] {
    if (v === null || v === undefined) return [];
    if (!Array.isArray(v)) this.fail(path, `must be a list, not ${kindOf(v)}`);
    return v;
  }

  str(path: FieldPath, v: unknown): string | undefined {
    if (v === null || v === undefined) return undefined;
    if (typeof v !== 'string') this.fail(path, `must be a string, not ${kindOf(v)}${quoteHint(v)}`);
    return v;
  }

  requiredStr(path: FieldPath, v: unknown, what: string): string {
    const s = this.str(path, v);
    if (s === undefined || s === '') this.fail(path, `is required (${what})`);
    return s;
  }

  strList(path: FieldPath, v: unknown): string[] {
    return this.list(path, v).map((item, i) => {
      if (typeof item !== 'string') {
        this.fail([...path, i], `must be a string, not ${kindOf(item)}${quoteHint(item)}`);
      }
      return item;
    });
  }

  strMap(path: FieldPath, v: unknown): Record<string, string> {
    const m = this.map(path, v) ?? {};
    for (const [k, val] of Object.entries(m)) {
      if (typeof val !== 'string') {
        this.fail([...path, k], `must be a string, not ${kindOf(val)}${quoteHint(val)}`);
      }
    }
    return m as Record<string, string>;
  }

  bool(path: FieldPath, v: unknown): boolean | undefined {
    if (v === null || v === undefined) return undefined;
    if (typeof v !== 'boolean') this.fail(path, `must be true or false, not ${kindOf(v)}`);
    return v;
  }

  int(path: FieldPath, v: unknown): number | undefined {
    if (v === null || v === undefined) return undefined;
    if (typeof v !== 'number' || !Number.isSafeInteger(v)) {
      this.fail(path, `must be an integer, not ${kindOf(v)}`);
    }
    return v;
  }

  /** Checks that every item of a list is a mapping, returning them. */
  maps(path: FieldPath, v: unknown): Obj[] {
    return this.list(path, v).map((item, i) => {
      if (!isObj(item)) this.fail([...path, i], `must be a mapping, not ${kindOf(item)}`);
      return item;
    });
  }
}

function driverOf(r: Reader, cfg: Obj): Driver {
  const path = ['sonobuoy-config', 'driver'];
  const raw = r.requiredStr(path, cfg.driver, 'Job or DaemonSet');
  const lower = raw.toLowerCase();
  if (lower === 'job') return 'Job';
  if (lower === 'daemonset') return 'DaemonSet';
  return r.fail(path, `must be Job or DaemonSet, not "${raw}"`);
}

function formatOf(r: Reader, cfg: Obj, warnings: string[]): ResultFormat {
  const path = ['sonobuoy-config', 'result-format'];
  const raw = r.str(path, cfg['result-format']);
  if (raw === undefined && cfg['result-type'] !== undefined) {
    warnings.push(
      locatedMessage(
        r.ctx,
        ['sonobuoy-config', 'result-type'],
        'is ignored (the field is result-format); results will be processed as raw',
      ),
    );
  }
  if (raw === undefined || raw === '') return 'raw';
  if ((formats as readonly string[]).includes(raw)) return raw as ResultFormat;
  warnings.push(
    locatedMessage(
      r.ctx,
      path,
      `"${raw}" is not one of ${formats.join(', ')}; results will be processed as raw`,
    ),
  );
  return 'raw';
}

function resultFilesOf(r: Reader, cfg: Obj): string[] {
  const path = ['sonobuoy-config', 'result-files'];
  const files = r.strList(path, cfg['result-files']);
  files.forEach((f, i) => {
    if (f === '' || f === '.' || f === '..' || /[/\\]/.test(f)) {
      r.fail(
        [...path, i],
        `must be a file base name (results are matched by base name), not "${f}"`,
      );
    }
  });
  return files;
}

const utf8 = (s: string): number => Buffer.byteLength(s);

function envOf(r: Reader, path: FieldPath, v: unknown): EnvVar[] {
  const local: EnvVar[] = [];
  let bytes = 0;
  r.maps(path, v).forEach((entry, i) => {
    const at = [...path, i];
    const name = r.requiredStr([...at, 'name'], entry.name, 'the variable name');
    const problem = envNameProblem(name);
    if (problem) r.fail([...at, 'name'], problem);
    const value = r.str([...at, 'value'], entry.value);
    // Counted as exec(2) does: NAME=value and a NUL.
    bytes += utf8(name) + utf8(value ?? '') + 2;
    r.bound(at, bytes, pluginLimits.envBytes, 'brings the list to');
    const from = r.map([...at, 'valueFrom'], entry.valueFrom);
    if (from && value !== undefined && value !== '') {
      r.fail([...at, 'valueFrom'], 'may not be set together with value');
    }
    // valueFrom needs the Kubernetes API; it stays in the manifest but has no local value.
    if (!from) local.push({ name, value: value ?? '' });
  });
  return local;
}

function containerOf(r: Reader, spec: Obj): PluginContainer {
  const p = (k: string): FieldPath => ['spec', k];
  r.str(p('imagePullPolicy'), spec.imagePullPolicy);
  r.maps(p('volumeMounts'), spec.volumeMounts);
  const workingDir = r.str(p('workingDir'), spec.workingDir);
  const command = r.strList(p('command'), spec.command);
  const args = r.strList(p('args'), spec.args);
  const argBytes = (list: string[]): number => list.reduce((n, a) => n + utf8(a) + 1, 0);
  const bytes = argBytes(command) + argBytes(args);
  r.bound(p(args.length ? 'args' : 'command'), bytes, pluginLimits.commandBytes, 'with command is');
  return {
    name: r.str(p('name'), spec.name) ?? '',
    image: r.str(p('image'), spec.image) ?? '',
    command,
    args,
    env: envOf(r, p('env'), spec.env),
    ...(workingDir ? { workingDir } : {}),
  };
}

function requirementOf(r: Reader, path: FieldPath, v: Obj): NodeSelectorRequirement {
  const key = r.requiredStr([...path, 'key'], v.key, 'a label key');
  const raw = r.requiredStr([...path, 'operator'], v.operator, operators.join(', '));
  if (!(operators as readonly string[]).includes(raw)) {
    r.fail([...path, 'operator'], `must be one of ${operators.join(', ')}, not "${raw}"`);
  }
  const operator = raw as NodeSelectorOperator;
  const values = r.strList([...path, 'values'], v.values);
  const vp = [...path, 'values'];
  if ((operator === 'In' || operator === 'NotIn') && values.length === 0) {
    r.fail(vp, `must not be empty for operator ${operator}`);
  }
  if ((operator === 'Exists' || operator === 'DoesNotExist') && values.length > 0) {
    r.fail(vp, `must be empty for operator ${operator}`);
  }
  if (
    (operator === 'Gt' || operator === 'Lt') &&
    (values.length !== 1 || !/^-?\d+$/.test(values[0]!))
  ) {
    r.fail(vp, `must hold exactly one integer for operator ${operator}`);
  }
  return { key, operator, values };
}

function affinityOf(r: Reader, podSpec: Obj): NodeSelectorTerm[] | undefined {
  const base = ['podSpec', 'affinity'];
  const affinity = r.map(base, podSpec.affinity);
  const node = r.map([...base, 'nodeAffinity'], affinity?.nodeAffinity);
  const reqPath = [...base, 'nodeAffinity', 'requiredDuringSchedulingIgnoredDuringExecution'];
  const required = r.map(reqPath, node?.requiredDuringSchedulingIgnoredDuringExecution);
  if (!required) return undefined;
  const termsPath = [...reqPath, 'nodeSelectorTerms'];
  const terms = r.maps(termsPath, required.nodeSelectorTerms);
  if (terms.length === 0) r.fail(termsPath, 'must hold at least one term');
  return terms.map((term, i) => {
    const at = [...termsPath, i];
    const reqs = (k: string): NodeSelectorRequirement[] =>
      r.maps([...at, k], term[k]).map((m, j) => requirementOf(r, [...at, k, j], m));
    const matchFields = reqs('matchFields');
    matchFields.forEach((f, j) => {
      if (f.key !== 'metadata.name')
        r.fail([...at, 'matchFields', j, 'key'], 'must be metadata.name');
    });
    return { matchExpressions: reqs('matchExpressions'), matchFields };
  });
}

const effects: readonly TaintEffect[] = ['NoSchedule', 'PreferNoSchedule', 'NoExecute'];

/** podSpec.tolerations, checked as the API server validates them. */
function tolerationsOf(r: Reader, v: unknown): Toleration[] {
  const base = ['podSpec', 'tolerations'];
  return r.maps(base, v).map((t, i): Toleration => {
    const at = (f: string): FieldPath => [...base, i, f];
    const key = r.str(at('key'), t.key) ?? '';
    const operator = r.str(at('operator'), t.operator) || 'Equal';
    if (operator !== 'Exists' && operator !== 'Equal') {
      r.fail(at('operator'), `must be Exists or Equal, not "${operator}"`);
    }
    const value = r.str(at('value'), t.value) ?? '';
    if (operator === 'Exists' && value) r.fail(at('value'), 'must be empty for operator Exists');
    if (!key && operator !== 'Exists') r.fail(at('operator'), 'must be Exists when key is empty');
    const effect = r.str(at('effect'), t.effect) ?? '';
    if (effect && !(effects as readonly string[]).includes(effect)) {
      r.fail(at('effect'), `must be one of ${effects.join(', ')} or empty, not "${effect}"`);
    }
    return {
      ...(key ? { key } : {}),
      operator,
      ...(value ? { value } : {}),
      ...(effect ? { effect: effect as TaintEffect } : {}),
    };
  });
}

function podSpecOf(r: Reader, v: unknown, driver: Driver) {
  const podSpec = r.map(['podSpec'], v);
  if (!podSpec)
    return { nodeSelector: {}, affinity: undefined, tolerations: defaultTolerations(driver) };
  const size = jsonSize(podSpec, pluginLimits.podSpecBytes, pluginLimits.nestingDepth);
  r.bound(['podSpec'], size, pluginLimits.podSpecBytes, 'as JSON is');
  r.maps(['podSpec', 'containers'], podSpec.containers).forEach((c, i) => {
    envOf(r, ['podSpec', 'containers', i, 'env'], c.env);
  });
  r.maps(['podSpec', 'volumes'], podSpec.volumes);
  return {
    nodeSelector: r.strMap(['podSpec', 'nodeSelector'], podSpec.nodeSelector),
    affinity: affinityOf(r, podSpec),
    tolerations: tolerationsOf(r, podSpec.tolerations),
  };
}

function configMapOf(r: Reader, v: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  let bytes = 0;
  for (const [key, val] of Object.entries(r.map(['config-map'], v) ?? {})) {
    const path = ['config-map', key];
    const problem = configMapKeyProblem(key);
    if (problem) r.fail(path, problem);
    const text = r.str(path, val) ?? '';
    bytes += utf8(key) + utf8(text);
    r.bound(path, bytes, pluginLimits.configMapBytes, 'brings the config-map to');
    if (isYamlConfigKey(key)) {
      const tooBig = configYamlProblem(text);
      if (tooBig) throw fieldError(r.ctx, path, tooBig, 'FATHOM_PLUGIN_TOO_LARGE');
      const err = yamlContentError(text);
      if (err) {
        const where = err.linePos ? ` (line ${err.linePos[0].line} of the entry)` : '';
        r.fail(
          path,
          `must parse as YAML${where}: ${err.message.split('\n')[0]?.replace(/ at line \d+, column \d+:?$/, '')}`,
        );
      }
    }
    // defineProperty: a `__proto__` entry must stay an entry.
    Object.defineProperty(out, key, {
      value: text,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return out;
}

/**
 * Validates one non-empty YAML document as a Sonobuoy plugin definition. Unknown fields are
 * ignored (Sonobuoy decodes non-strictly); known fields of the wrong type are errors.
 */
export function decodePlugin(ctx: DocContext, index: number, value: unknown): DecodedPlugin {
  const r: Reader = new Reader(ctx);
  if (!isObj(value)) {
    r.fail(
      [],
      `a plugin definition must be a mapping with sonobuoy-config and spec, not ${kindOf(value)}`,
    );
  }
  // Aliases can expand a small file a hundredfold; refuse that before reading any field.
  const size = jsonSize(value, pluginLimits.definitionBytes, pluginLimits.nestingDepth);
  r.bound([], size, pluginLimits.definitionBytes, 'the definition as JSON, aliases expanded, is');
  const warnings: string[] = [];
  const cfg = r.requiredMap(
    ['sonobuoy-config'],
    value['sonobuoy-config'],
    'driver, plugin-name...',
  );
  const driver = driverOf(r, cfg);
  const namePath = ['sonobuoy-config', 'plugin-name'];
  const name = r.requiredStr(namePath, cfg['plugin-name'], 'the plugin name');
  const nameProblem = pluginNameProblem(name);
  if (nameProblem) r.fail(namePath, nameProblem);
  const resultFormat = formatOf(r, cfg, warnings);
  const resultFiles = resultFilesOf(r, cfg);
  const skipCleanup = r.bool(['sonobuoy-config', 'skip-cleanup'], cfg['skip-cleanup']) ?? false;
  const descPath = ['sonobuoy-config', 'description'];
  const description = r.str(descPath, cfg.description) ?? '';
  r.bound(descPath, utf8(description), pluginLimits.descriptionBytes, 'is');
  const sourceUrl = r.str(['sonobuoy-config', 'source-url'], cfg['source-url']) ?? '';
  const order = r.int(['sonobuoy-config', 'order'], cfg.order) ?? 0;
  // fathom's extension (Sonobuoy ignores unknown keys): a raw plugin's exit code is its verdict.
  const verdictPath = ['sonobuoy-config', 'exit-code-verdict'];
  const exitCodeVerdict = r.bool(verdictPath, cfg['exit-code-verdict']) ?? false;
  if (exitCodeVerdict && resultFormat !== 'raw') {
    r.fail(verdictPath, `needs result-format raw, not "${resultFormat}"`);
  }
  const container = containerOf(r, r.requiredMap(['spec'], value.spec, "the plugin's container"));
  const { nodeSelector, affinity, tolerations } = podSpecOf(r, value.podSpec, driver);
  r.maps(['extra-volumes'], value['extra-volumes']).forEach((vol, i) => {
    r.requiredStr(['extra-volumes', i, 'name'], vol.name, 'the volume name');
  });
  const configMap = configMapOf(r, value['config-map']);
  const pos = positionOf(ctx, namePath);
  const plugin: PluginDefinition = {
    name,
    driver,
    resultFormat,
    resultFiles,
    skipCleanup,
    exitCodeVerdict,
    description,
    sourceUrl,
    order,
    container,
    nodeSelector: { ...nodeSelector },
    ...(affinity ? { requiredNodeAffinity: affinity } : {}),
    tolerations: [...tolerations],
    configMap,
    manifest: value,
    source: { file: ctx.file, document: index },
  };
  return { plugin: deepFreeze(plugin), warnings, nameAt: `${ctx.file}:${pos.line}:${pos.column}` };
}
