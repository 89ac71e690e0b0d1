import path from 'node:path';
import { FathomError } from '../core/errors.js';
import { formatBytes, readFileAtMost } from '../core/bounded.js';
import { configYamlProblem, pluginLimits, tooLarge } from './limits.js';
import { defaultTolerations } from './tolerations.js';
import type { Driver } from './types.js';
import {
  configMapKeyProblem,
  envNameProblem,
  isYamlConfigKey,
  pluginNameProblem,
  yamlContentError,
} from './names.js';
import { renderGoYaml } from './render.js';

/** fathom's local backend does not pull images, so any small image with a POSIX shell will do. */
export const DEFAULT_PLUGIN_IMAGE = 'busybox:1.36';

/** Options of `fathom gen plugin`, named after Sonobuoy's `gen plugin` flags. */
export interface GenPluginOptions {
  /** `-n/--name` (required): the plugin-name. */
  readonly name: string;
  /** `-i/--image`; default {@link DEFAULT_PLUGIN_IMAGE}. */
  readonly image?: string;
  /** `-t/--type`: job or daemonset, any case; default job. */
  readonly type?: string;
  /** `-f/--format`: junit, e2e, gojson, raw or manual; default raw. */
  readonly format?: string;
  /** `-c/--cmd`, repeatable; default `./run.sh`. An empty list leaves the image's entrypoint. */
  readonly cmd?: readonly string[];
  /** `-a/--arg`, repeatable. */
  readonly args?: readonly string[];
  /** `-e/--env K=V`, repeatable; the last value of a key wins. */
  readonly env?: readonly string[];
  /** `--configmap FILE`, repeatable: each file becomes a config-map entry named by its base name. */
  readonly configmap?: readonly string[];
  /** `-D/--description`. */
  readonly description?: string;
  /** `-u/--url`. */
  readonly url?: string;
  /** `--node-selector k=v`, repeatable. */
  readonly nodeSelector?: readonly string[];
  /** `--show-default-podspec`: include the driver's default podSpec. */
  readonly showDefaultPodspec?: boolean;
  /** Base for relative `--configmap` paths; defaults to process.cwd(). */
  readonly cwd?: string;
}

const formats: readonly string[] = ['junit', 'e2e', 'gojson', 'raw', 'manual'];

function bad(flag: string, value: string, problem: string): FathomError {
  return new FathomError('FATHOM_BAD_FLAG_VALUE', `${flag} ${JSON.stringify(value)}: ${problem}`, {
    details: { flag, value },
  });
}

/** The podSpec Sonobuoy uses for a driver when a plugin brings none. */
export function defaultPodSpec(driver: Driver): Record<string, unknown> {
  if (driver === 'Job') {
    return {
      containers: [],
      nodeSelector: { 'kubernetes.io/os': 'linux' },
      restartPolicy: 'Never',
      serviceAccountName: 'sonobuoy-serviceaccount',
      tolerations: defaultTolerations('Job').map((t) => ({ ...t })),
    };
  }
  return {
    containers: [],
    dnsPolicy: 'ClusterFirstWithHostNet',
    hostIPC: true,
    hostNetwork: true,
    hostPID: true,
    serviceAccountName: 'sonobuoy-serviceaccount',
    tolerations: defaultTolerations('DaemonSet').map((t) => ({ ...t })),
    volumes: [{ hostPath: { path: '/' }, name: 'root' }],
  };
}

function driverOf(type: string | undefined): Driver {
  const t = (type ?? 'job').toLowerCase();
  if (t === 'job') return 'Job';
  if (t === 'daemonset') return 'DaemonSet';
  throw bad('--type', type ?? '', 'must be job or daemonset');
}

/** Parses repeated `K=V` flags; the key must be non-empty. */
function pairs(
  flag: string,
  entries: readonly string[],
  checkKey?: (k: string) => string | undefined,
) {
  const out = new Map<string, string>();
  for (const entry of entries) {
    const eq = entry.indexOf('=');
    const key = eq < 0 ? '' : entry.slice(0, eq);
    if (key === '') throw bad(flag, entry, 'expected KEY=VALUE');
    const problem = checkKey?.(key);
    if (problem) throw bad(flag, entry, problem);
    out.set(key, entry.slice(eq + 1));
  }
  return out;
}

/**
 * Builds the plugin manifest object for the options; `configMap` holds the already read
 * `--configmap` files (base name → contents). Throws FATHOM_BAD_FLAG_VALUE for bad options.
 */
export function buildPluginManifest(
  opts: GenPluginOptions,
  configMap: Readonly<Record<string, string>> = {},
): Record<string, unknown> {
  const nameProblem = pluginNameProblem(opts.name);
  if (nameProblem) throw bad('--name', opts.name, `plugin name ${nameProblem}`);
  const driver = driverOf(opts.type);
  const format = opts.format ?? 'raw';
  if (!formats.includes(format))
    throw bad('--format', format, `must be one of ${formats.join(', ')}`);
  const image = opts.image ?? DEFAULT_PLUGIN_IMAGE;
  if (image.trim() === '') throw bad('--image', image, 'must not be empty');
  const env = pairs('--env', opts.env ?? [], envNameProblem);
  const selector = pairs('--node-selector', opts.nodeSelector ?? []);

  const cfg: Record<string, unknown> = {
    driver,
    'plugin-name': opts.name,
    'result-format': format,
  };
  if (opts.description) cfg.description = opts.description;
  if (opts.url) cfg['source-url'] = opts.url;

  const spec: Record<string, unknown> = { name: 'plugin', image };
  const cmd = opts.cmd ?? ['./run.sh'];
  if (cmd.length > 0) spec.command = [...cmd];
  if (opts.args && opts.args.length > 0) spec.args = [...opts.args];
  if (env.size > 0) {
    spec.env = [...env]
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([name, value]) => ({ name, value }));
  }

  const manifest: Record<string, unknown> = { 'sonobuoy-config': cfg, spec };
  // Unlike Sonobuoy (which then emits a bare podSpec holding only the selector), a node selector
  // starts from the driver's default podSpec so the plugin keeps its tolerations and restart policy.
  if (opts.showDefaultPodspec || selector.size > 0) {
    const podSpec = defaultPodSpec(driver);
    if (selector.size > 0) podSpec.nodeSelector = Object.fromEntries(selector);
    manifest.podSpec = podSpec;
  }
  if (Object.keys(configMap).length > 0) manifest['config-map'] = { ...configMap };
  return manifest;
}

/** Prints a manifest the way `sonobuoy gen plugin` does. */
export function renderPluginManifest(manifest: Readonly<Record<string, unknown>>): string {
  return renderGoYaml(manifest);
}

/** Reads `--configmap` files into config-map entries named by base name. */
export async function readConfigMapFiles(
  files: readonly string[],
  cwd: string = process.cwd(),
): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  let total = 0;
  for (const file of files) {
    const key = path.basename(file);
    const problem = configMapKeyProblem(key);
    if (problem) throw bad('--configmap', file, problem);
    if (Object.hasOwn(out, key))
      throw bad('--configmap', file, `another file is also named ${key}`);
    let bytes: Buffer | undefined;
    try {
      // The loader refuses a config-map over this limit, so reading more is pointless.
      // Counted as the loader counts: keys and contents.
      const left = pluginLimits.configMapBytes - total - Buffer.byteLength(key);
      bytes = left < 0 ? undefined : await readFileAtMost(path.resolve(cwd, file), left);
    } catch (cause) {
      throw new FathomError(
        'FATHOM_BAD_FLAG_VALUE',
        `--configmap ${JSON.stringify(file)}: ${(cause as Error).message}`,
        {
          cause,
          details: { flag: '--configmap', value: file },
        },
      );
    }
    if (!bytes) {
      throw tooLarge(
        `--configmap ${JSON.stringify(file)}: the config-map files are over the ${formatBytes(pluginLimits.configMapBytes)} limit together`,
        { file, limit: pluginLimits.configMapBytes },
      );
    }
    total += Buffer.byteLength(key) + bytes.length;
    const text = bytes.toString('utf8');
    if (isYamlConfigKey(key)) {
      const tooBig = configYamlProblem(text);
      if (tooBig) throw tooLarge(`--configmap ${JSON.stringify(file)}: ${tooBig}`, { file });
      const err = yamlContentError(text);
      if (err) {
        const line = err.linePos ? `line ${err.linePos[0].line}: ` : '';
        throw bad(
          '--configmap',
          file,
          `${line}not valid YAML (Sonobuoy parses .yaml, .yml and .json entries)`,
        );
      }
    }
    out[key] = text;
  }
  return out;
}

/**
 * `sonobuoy gen plugin` for fathom: the YAML text of a plugin definition. Differences from
 * Sonobuoy: the image defaults to {@link DEFAULT_PLUGIN_IMAGE} (Sonobuoy requires `--image`),
 * `--format` must be a known format, and `--node-selector` keeps the driver's default podSpec.
 */
export async function generatePluginDefinition(opts: GenPluginOptions): Promise<string> {
  // Validate the cheap options before touching the file system.
  buildPluginManifest(opts);
  const configMap = await readConfigMapFiles(opts.configmap ?? [], opts.cwd);
  return renderPluginManifest(buildPluginManifest(opts, configMap));
}
