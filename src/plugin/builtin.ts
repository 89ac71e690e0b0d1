/**
 * Sonobuoy's built-in plugins, `e2e` (the Kubernetes conformance suite) and `systemd-logs`,
 * generated from Sonobuoy's defaults and the run's flags as `sonobuoy gen` builds them
 * (v0.57.5). Left out, because every backend adds them to every plugin when it launches it:
 * Sonobuoy's own env (SONOBUOY, SONOBUOY_K8S_VERSION, RESULTS_DIR, ...), the `results`
 * volume and the config-map volume.
 */
import { FathomError } from '../core/errors.js';
import { DEFAULT_E2E_MODE, E2E_MODE_ENV, E2E_MODES, type E2eMode } from './builtin-modes.js';
import { defaultPodSpec } from './gen.js';
import { parsePluginDocuments } from './loader.js';
import { configMapKeyProblem, yamlContentError } from './names.js';
import { parsePluginEnvFlag } from './env.js';
import { renderGoYaml } from './render.js';
import type { PluginDefinition } from './types.js';

export const BUILTIN_PLUGINS = ['e2e', 'systemd-logs'] as const;
export type BuiltinName = (typeof BUILTIN_PLUGINS)[number];

export const CONFORMANCE_IMAGE = 'registry.k8s.io/conformance';
export const SYSTEMD_LOGS_IMAGE = 'sonobuoy/systemd-logs:v0.4';
/** Where Sonobuoy mounts a plugin's config-map, and fathom too. */
const CONFIG_DIR = '/tmp/sonobuoy/config';
const VERSION_VAR = '$SONOBUOY_K8S_VERSION';

export function isBuiltinName(name: string): name is BuiltinName {
  return (BUILTIN_PLUGINS as readonly string[]).includes(name);
}

/** The run's flags that shape the built-in plugins, validated (see `builtinOptions`). */
export interface BuiltinOptions {
  /** A conformance image tag (`v1.31.0`), see `conformanceVersion`. */
  readonly kubernetesVersion: string;
  readonly mode: E2eMode;
  readonly e2eFocus?: string;
  readonly e2eSkip?: string;
  readonly e2eParallel?: string;
  /** `--rerun-failed`: E2E_FOCUS set to these tests, E2E_SKIP removed. */
  readonly rerunFocus?: string;
  /** `--e2e-repo-config`: the file's base name and contents. */
  readonly e2eRepoConfig?: { readonly name: string; readonly contents: string };
  readonly imagePullPolicy: string;
  /** `--plugin-image NAME:IMAGE`, parsed. */
  readonly pluginImages: Readonly<Record<string, string>>;
  /** `--plugin-env` entries, as given. */
  readonly pluginEnv: readonly string[];
}

const bad = (flag: string, value: string, problem: string): FathomError =>
  new FathomError('FATHOM_BAD_FLAG_VALUE', `${flag} ${JSON.stringify(value)}: ${problem}`, {
    details: { flag, value },
  });

/** `--mode`, any case, as Sonobuoy reads it; an unknown one lists the valid modes. */
export function parseMode(value: string): E2eMode {
  const mode = value.toLowerCase();
  if ((E2E_MODES as readonly string[]).includes(mode)) return mode as E2eMode;
  throw bad('--mode', value, `unknown mode; valid modes: ${E2E_MODES.join(', ')}`);
}

/** E2E_FOCUS and E2E_SKIP must be regular expressions (Sonobuoy checks them with Go's regexp). */
export function checkRegexp(flag: string, value: string): string {
  try {
    new RegExp(value);
  } catch (err) {
    throw bad(flag, value, `not a regular expression: ${(err as Error).message}`);
  }
  return value;
}

const SEMVER = /^v(\d+)(?:\.(\d+))?(?:\.(\d+))?(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$/;

/**
 * `--kubernetes-version` as Sonobuoy normalises it: a leading `v` required, missing minor and
 * patch numbers become 0 (`v1.31` → `v1.31.0`), pre-release and build parts kept.
 */
export function conformanceVersion(value: string, flag = '--kubernetes-version'): string {
  const m = SEMVER.exec(value);
  if (!m) throw bad(flag, value, 'expected a version such as v1.31.0');
  const n = (s: string | undefined): number => Number(s ?? '0');
  return `v${n(m[1])}.${n(m[2])}.${n(m[3])}${m[4] ?? ''}${m[5] ?? ''}`;
}

/**
 * The conformance image tag for an API server's gitVersion, as Sonobuoy's `auto` finds it:
 * build metadata dropped (`v1.31.0+k3s1` → `v1.31.0`), rc/alpha/beta pre-releases kept.
 */
export function conformanceTag(gitVersion: string): string {
  const m = SEMVER.exec(gitVersion);
  if (!m) {
    throw new FathomError(
      'FATHOM_BAD_FLAG_VALUE',
      `the API server's version "${gitVersion}" is not a version; give --kubernetes-version`,
    );
  }
  const pre = m[4] && /^-(rc|alpha|beta)/.test(m[4]) ? m[4] : '';
  return `v${Number(m[1])}.${Number(m[2] ?? 0)}.${Number(m[3] ?? 0)}${pre}`;
}

/** `--plugin-image NAME:IMAGE` (repeatable; the last for a plugin wins). */
export function parsePluginImages(entries: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const entry of entries) {
    const colon = entry.indexOf(':');
    if (colon <= 0 || colon === entry.length - 1) {
      throw bad('--plugin-image', entry, 'expected PLUGIN:IMAGE');
    }
    out[entry.slice(0, colon)] = entry.slice(colon + 1);
  }
  return out;
}

/** `--e2e-repo-config FILE`'s contents, checked as Sonobuoy checks a config-map entry. */
export function repoConfigEntry(file: string, baseName: string, contents: string) {
  const problem = configMapKeyProblem(baseName);
  if (problem) throw bad('--e2e-repo-config', file, problem);
  const err = yamlContentError(contents);
  if (err) throw bad('--e2e-repo-config', file, `must be YAML: ${err.message.split('\n')[0]}`);
  return { name: baseName, contents };
}

type Env = { name: string; value?: string; valueFrom?: unknown };

/**
 * Sonobuoy's env merge: overrides win, an empty override removes the variable, and the list
 * comes out sorted by name regardless of case.
 */
function mergeEnv(base: readonly Env[], overrides: ReadonlyMap<string, string>): Env[] {
  const byName = new Map(base.map((e) => [e.name, e]));
  for (const [name, value] of overrides) {
    if (value === '') byName.delete(name);
    else byName.set(name, { name, value });
  }
  const key = (e: Env): string => e.name.toLowerCase();
  return [...byName.values()].sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
}

/** The env settings for one plugin: Sonobuoy's e2e flags first, then `--plugin-env`. */
function overridesFor(name: BuiltinName, o: BuiltinOptions): Map<string, string> {
  const out = new Map<string, string>();
  if (name === 'e2e') {
    const mode = E2E_MODE_ENV[o.mode];
    out.set('E2E_FOCUS', mode.focus);
    out.set('E2E_SKIP', mode.skip);
    out.set('E2E_PARALLEL', mode.parallel);
    if (o.e2eFocus !== undefined) out.set('E2E_FOCUS', o.e2eFocus);
    if (o.e2eSkip !== undefined) out.set('E2E_SKIP', o.e2eSkip);
    if (o.e2eParallel !== undefined) out.set('E2E_PARALLEL', o.e2eParallel);
    if (o.rerunFocus !== undefined) {
      out.set('E2E_FOCUS', o.rerunFocus);
      out.set('E2E_SKIP', '');
    }
  }
  for (const entry of o.pluginEnv) {
    const s = parsePluginEnvFlag(entry, [...BUILTIN_PLUGINS]);
    if (s.plugin === name) out.set(s.key, s.value);
  }
  return out;
}

function e2eManifest(o: BuiltinOptions): Record<string, unknown> {
  const overrides = overridesFor('e2e', o);
  const env: Env[] = [
    { name: 'E2E_FOCUS', value: overrides.get('E2E_FOCUS') ?? '' },
    { name: 'E2E_SKIP', value: overrides.get('E2E_SKIP') ?? '' },
    { name: 'E2E_PARALLEL', value: overrides.get('E2E_PARALLEL') ?? '' },
    { name: 'E2E_USE_GO_RUNNER', value: 'true' },
    // The conformance image reports progress to the worker's relay on Sonobuoy's port.
    { name: 'E2E_EXTRA_ARGS', value: '--progress-report-url=http://localhost:8099/progress' },
  ];
  const manifest: Record<string, unknown> = {
    'sonobuoy-config': { driver: 'Job', 'plugin-name': 'e2e', 'result-format': 'junit' },
    podSpec: defaultPodSpec('Job'),
  };
  if (o.e2eRepoConfig) {
    manifest['config-map'] = { [o.e2eRepoConfig.name]: o.e2eRepoConfig.contents };
    env.push({ name: 'KUBE_TEST_REPO_LIST', value: `${CONFIG_DIR}/${o.e2eRepoConfig.name}` });
  }
  manifest.spec = {
    name: 'e2e',
    image: o.pluginImages.e2e ?? `${CONFORMANCE_IMAGE}:${o.kubernetesVersion}`,
    command: ['/run_e2e.sh'],
    imagePullPolicy: o.imagePullPolicy,
    env: mergeEnv(env, overrides),
  };
  return manifest;
}

function systemdLogsManifest(o: BuiltinOptions): Record<string, unknown> {
  // RESULTS_DIR and SONOBUOY_RESULTS_DIR are fathom's to set (Sonobuoy writes them here too).
  const env: Env[] = [
    { name: 'CHROOT_DIR', value: '/node' },
    { name: 'NODE_NAME', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } },
  ];
  return {
    'sonobuoy-config': {
      driver: 'DaemonSet',
      'plugin-name': 'systemd-logs',
      'result-format': 'raw',
    },
    // systemd-logs only makes sense on Linux nodes.
    podSpec: { ...defaultPodSpec('DaemonSet'), nodeSelector: { 'kubernetes.io/os': 'linux' } },
    spec: {
      name: 'systemd-logs',
      image: o.pluginImages['systemd-logs'] ?? SYSTEMD_LOGS_IMAGE,
      // A DaemonSet's pod is restarted when it exits: the plugin sleeps once it has reported.
      command: [
        '/bin/sh',
        '-c',
        '/get_systemd_logs.sh; while true; do echo "Plugin is complete. Sleeping indefinitely to avoid container exit and automatic restarts from Kubernetes"; sleep 3600; done',
      ],
      imagePullPolicy: o.imagePullPolicy,
      securityContext: { privileged: true },
      volumeMounts: [{ mountPath: '/node', name: 'root' }],
      env: mergeEnv(env, overridesFor('systemd-logs', o)),
    },
  };
}

/** The manifest of a built-in plugin, as Sonobuoy's `gen` writes it less the launch-time parts. */
export function builtinManifest(name: BuiltinName, o: BuiltinOptions): Record<string, unknown> {
  const manifest = name === 'e2e' ? e2eManifest(o) : systemdLogsManifest(o);
  const spec = manifest.spec as Record<string, unknown>;
  // Sonobuoy fills the version into any plugin image that asks for it.
  spec.image = String(spec.image).replaceAll(VERSION_VAR, o.kubernetesVersion);
  return manifest;
}

/** A built-in plugin, loaded like any other definition (`<built-in NAME>` in messages). */
export function builtinPlugin(name: BuiltinName, o: BuiltinOptions): PluginDefinition {
  const file = `<built-in ${name}>`;
  return parsePluginDocuments(renderGoYaml(builtinManifest(name, o)), file).plugins[0]!;
}

export { DEFAULT_E2E_MODE, E2E_MODES };
