/**
 * The run's plugins as `fathom run` and `fathom gen` load them: files, directories, examples,
 * and Sonobuoy's built-in `e2e` and `systemd-logs` generated from the e2e flags; or, with
 * `--from TARBALL`, a past run's plugins as they ran, with its timeout and worker image.
 */
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { FathomError } from '../core/errors.js';
import type { PluginDefinition } from '../plugin/types.js';
import { examplePluginsDir, type Io } from './context.js';
import type { SnapshotConfig } from '../snapshot/config.js';

/** The flags `run` and `gen` share that shape the built-in plugins (flags.ts: e2eFlags). */
export interface E2eFlagOptions {
  plugin?: string[];
  pluginEnv?: string[];
  mode?: string;
  e2eFocus?: string;
  e2eSkip?: string;
  e2eParallel?: string;
  kubernetesVersion?: string;
  e2eRepoConfig?: string;
  pluginImage?: string[];
  kubeConformanceImage?: string;
  systemdLogsImage?: string;
  rerunFailed?: string;
  imagePullPolicy?: string;
  from?: string;
}

/** What `--from` carries over, for the flags the user did not give. */
export interface PastSettings {
  readonly timeoutMs?: number;
  readonly image?: string;
  readonly imagePullPolicy?: 'Always' | 'IfNotPresent' | 'Never';
  /** The cluster snapshot's Resources, Filters and Limits. */
  readonly snapshot?: SnapshotConfig;
}

export interface RunPlugins {
  readonly plugins: readonly PluginDefinition[];
  readonly past?: PastSettings;
}

const usage = (message: string): FathomError => new FathomError('FATHOM_USAGE', message);

/** Sonobuoy refuses these together: one would silently undo the other. */
function checkCombinations(o: E2eFlagOptions): void {
  const focusOrSkip = o.e2eFocus !== undefined || o.e2eSkip !== undefined;
  if (o.mode !== undefined && focusOrSkip) {
    throw usage('--mode and --e2e-focus/--e2e-skip cannot be given together');
  }
  if (o.rerunFailed !== undefined && focusOrSkip) {
    throw usage('--rerun-failed and --e2e-focus/--e2e-skip cannot be given together');
  }
  if (o.rerunFailed !== undefined && o.mode !== undefined) {
    throw usage('--rerun-failed and --mode cannot be given together');
  }
}

/**
 * E2E_FOCUS for `--rerun-failed TARBALL`: the e2e tests that failed or timed out there, each
 * quoted as a regular expression, joined with `|` (as Sonobuoy builds it).
 */
export async function rerunFocus(tarball: string): Promise<string> {
  const [{ readArchive }, { readPluginResults, reportData }, { quoteMeta }] = await Promise.all([
    import('../results/archive.js'),
    import('../results/read.js'),
    import('../plugin/builtin-modes.js'),
  ]);
  const rel = 'plugins/e2e/sonobuoy_results.yaml';
  // Missing or unreadable: bad input, named by its flag.
  const readable = await stat(tarball).then(
    (st) => st.isFile(),
    () => false,
  );
  if (!readable) {
    throw new FathomError('FATHOM_BAD_FLAG_VALUE', `--rerun-failed ${tarball}: no such file`, {
      details: { flag: '--rerun-failed', value: tarball },
    });
  }
  const archive = await readArchive(tarball, (f) => f === rel);
  let item;
  try {
    item = await readPluginResults(archive, 'e2e');
  } catch (err) {
    throw new FathomError(
      'FATHOM_RESULTS_INVALID',
      `--rerun-failed ${tarball}: ${(err as Error).message} (the tarball holds no e2e results)`,
      { cause: err },
    );
  }
  const failed = reportData(item).failedTests;
  if (failed.length === 0) {
    throw new FathomError(
      'FATHOM_RESULTS_INVALID',
      `--rerun-failed ${tarball}: no tests failed for plugin "e2e"`,
    );
  }
  return failed.map(quoteMeta).join('|');
}

/**
 * Loads `-p` references (default: the example plugins). `e2e` and `systemd-logs` are generated;
 * `version` gives the cluster's version when e2e is asked for without --kubernetes-version.
 */
export async function loadRunPlugins(
  o: E2eFlagOptions,
  io: Io,
  version: () => Promise<string>,
): Promise<RunPlugins> {
  if (o.from !== undefined) return pastRunPlugins(o, o.from, io);
  const [builtin, { applyPluginEnv, assertRunSize, loadPluginPaths }, { applyPluginImages }] =
    await Promise.all([
      import('../plugin/builtin.js'),
      import('../plugin/loader.js'),
      import('../plugin/env.js'),
    ]);
  checkCombinations(o);
  // Checked before anything is read, whether or not e2e is in the run (as Sonobuoy does).
  const mode = builtin.parseMode(o.mode ?? builtin.DEFAULT_E2E_MODE);
  if (o.e2eFocus !== undefined) builtin.checkRegexp('--e2e-focus', o.e2eFocus);
  if (o.e2eSkip !== undefined) builtin.checkRegexp('--e2e-skip', o.e2eSkip);
  const pinned =
    o.kubernetesVersion !== undefined ? builtin.conformanceVersion(o.kubernetesVersion) : undefined;
  // Sonobuoy's two shorthands, taken before --plugin-image (which then wins).
  const pluginImages = builtin.parsePluginImages([
    ...(o.kubeConformanceImage !== undefined ? [`e2e:${o.kubeConformanceImage}`] : []),
    ...(o.systemdLogsImage !== undefined ? [`systemd-logs:${o.systemdLogsImage}`] : []),
    ...(o.pluginImage ?? []),
  ]);
  let repo: { name: string; contents: string } | undefined;
  if (o.e2eRepoConfig !== undefined) {
    const file = path.resolve(io.cwd, o.e2eRepoConfig);
    let contents;
    try {
      contents = await readFile(file, 'utf8');
    } catch (err) {
      throw new FathomError(
        'FATHOM_BAD_FLAG_VALUE',
        `--e2e-repo-config ${o.e2eRepoConfig}: cannot read it: ${(err as Error).message}`,
        { cause: err },
      );
    }
    repo = builtin.repoConfigEntry(o.e2eRepoConfig, path.basename(file), contents);
  }
  const rerun =
    o.rerunFailed !== undefined ? await rerunFocus(path.resolve(io.cwd, o.rerunFailed)) : undefined;
  let resolved: string | undefined = pinned;
  const generated = {
    names: builtin.BUILTIN_PLUGINS,
    load: async (name: string): Promise<PluginDefinition> => {
      // Only e2e's image needs the version: systemd-logs alone never asks the cluster.
      const v = name === 'e2e' ? (resolved ??= await version()) : (resolved ?? '');
      return builtin.builtinPlugin(name as 'e2e', {
        kubernetesVersion: v,
        mode,
        ...(o.e2eFocus !== undefined ? { e2eFocus: o.e2eFocus } : {}),
        ...(o.e2eSkip !== undefined ? { e2eSkip: o.e2eSkip } : {}),
        ...(o.e2eParallel !== undefined ? { e2eParallel: o.e2eParallel } : {}),
        ...(rerun !== undefined ? { rerunFocus: rerun } : {}),
        ...(repo ? { e2eRepoConfig: repo } : {}),
        imagePullPolicy: o.imagePullPolicy ?? 'IfNotPresent',
        pluginImages,
        pluginEnv: o.pluginEnv ?? [],
      });
    },
  };
  const refs = o.plugin?.length ? o.plugin : [examplePluginsDir];
  const loaded = await loadPluginPaths(refs, {
    builtinDir: examplePluginsDir,
    cwd: io.cwd,
    generated,
  });
  for (const w of loaded.warnings) io.err(`warning: ${w}\n`);
  const withEnv = applyPluginEnv(loaded.plugins, o.pluginEnv ?? []);
  const plugins = applyPluginImages(withEnv, pluginImages);
  // --plugin-env adds to what run.json stores: bound the set as it is stored.
  assertRunSize(plugins);
  return { plugins };
}

/** The flags `--from` cannot go with: they choose plugins, and it repeats a past run's. */
const NOT_WITH_FROM: readonly (readonly [keyof E2eFlagOptions, string])[] = [
  ['mode', '--mode'],
  ['e2eFocus', '--e2e-focus'],
  ['e2eSkip', '--e2e-skip'],
  ['e2eParallel', '--e2e-parallel'],
  ['kubernetesVersion', '--kubernetes-version'],
  ['e2eRepoConfig', '--e2e-repo-config'],
  ['rerunFailed', '--rerun-failed'],
];

/**
 * `--from TARBALL` (sonobuoy#634): each plugin's definition.json from the tarball, loaded as a
 * plugin file is, then `--plugin-env` and `--plugin-image` on top.
 */
async function pastRunPlugins(o: E2eFlagOptions, from: string, io: Io): Promise<RunPlugins> {
  if (o.plugin?.length) throw usage('--from and -p: give one (--from repeats its plugins)');
  for (const [key, flag] of NOT_WITH_FROM) {
    if (o[key] !== undefined)
      throw usage(`--from and ${flag}: --from repeats its plugins as they ran`);
  }
  const [
    { readPastRun },
    builtin,
    { applyPluginEnv, assertRunSize, assertUniqueNames, parsePluginDocuments },
    { applyPluginImages },
  ] = await Promise.all([
    import('../results/past-run.js'),
    import('../plugin/builtin.js'),
    import('../plugin/loader.js'),
    import('../plugin/env.js'),
  ]);
  const tarball = path.resolve(io.cwd, from);
  if (
    !(await stat(tarball).then(
      (st) => st.isFile(),
      () => false,
    ))
  ) {
    throw new FathomError('FATHOM_BAD_FLAG_VALUE', `--from ${from}: no such file`, {
      details: { flag: '--from', value: from },
    });
  }
  const past = await readPastRun(tarball);
  const loaded: PluginDefinition[] = [];
  for (const p of past.plugins) {
    const one = parsePluginDocuments(p.text, p.source);
    for (const w of one.warnings) io.err(`warning: ${w}\n`);
    loaded.push(...one.plugins);
  }
  assertUniqueNames(loaded);
  const images = builtin.parsePluginImages([
    ...(o.kubeConformanceImage !== undefined ? [`e2e:${o.kubeConformanceImage}`] : []),
    ...(o.systemdLogsImage !== undefined ? [`systemd-logs:${o.systemdLogsImage}`] : []),
    ...(o.pluginImage ?? []),
  ]);
  const plugins = applyPluginImages(applyPluginEnv(loaded, o.pluginEnv ?? []), images);
  assertRunSize(plugins);
  const policy = past.imagePullPolicy;
  return {
    plugins,
    past: {
      ...(past.timeoutSeconds !== undefined ? { timeoutMs: past.timeoutSeconds * 1000 } : {}),
      ...(past.workerImage ? { image: past.workerImage } : {}),
      ...(policy === 'Always' || policy === 'IfNotPresent' || policy === 'Never'
        ? { imagePullPolicy: policy }
        : {}),
      ...(past.snapshot ? { snapshot: past.snapshot } : {}),
    },
  };
}
