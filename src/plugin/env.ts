import { FathomError } from '../core/errors.js';
import type { EnvVar, PluginDefinition } from './types.js';
import { deepFreeze, envNameProblem, RESERVED_PLUGIN_NAME } from './names.js';

/** One parsed `--plugin-env PLUGIN.KEY=VALUE`; an empty value removes the variable. */
export interface PluginEnvSetting {
  readonly plugin: string;
  readonly key: string;
  readonly value: string;
}

function badFlag(entry: string, problem: string): FathomError {
  return new FathomError(
    'FATHOM_BAD_FLAG_VALUE',
    `--plugin-env ${JSON.stringify(entry)}: ${problem}`,
    {
      details: { flag: '--plugin-env', value: entry },
    },
  );
}

/**
 * Parses `PLUGIN.KEY=VALUE`. Plugin names may contain dots, so the longest known name that
 * prefixes the entry wins; otherwise the plugin is what precedes the first dot.
 */
export function parsePluginEnvFlag(
  entry: string,
  knownNames: readonly string[] = [],
): PluginEnvSetting {
  const eq = entry.indexOf('=');
  if (eq < 0) throw badFlag(entry, 'expected PLUGIN.KEY=VALUE');
  const lhs = entry.slice(0, eq);
  const known = knownNames
    .filter((n) => lhs.startsWith(`${n}.`) && lhs.length > n.length + 1)
    .sort((a, b) => b.length - a.length)[0];
  const dot = known !== undefined ? known.length : lhs.indexOf('.');
  if (dot <= 0 || dot === lhs.length - 1) throw badFlag(entry, 'expected PLUGIN.KEY=VALUE');
  const key = lhs.slice(dot + 1);
  const problem = envNameProblem(key);
  if (problem) throw badFlag(entry, problem);
  return { plugin: lhs.slice(0, dot), key, value: entry.slice(eq + 1) };
}

type EnvEntry = Record<string, unknown>;

/** Sets or removes variables in a manifest env list, keeping the author's order ($(VAR) refs depend on it). */
function editEnv(list: unknown, changes: ReadonlyMap<string, string>): EnvEntry[] {
  const out: EnvEntry[] = [];
  const done = new Set<string>();
  for (const entry of Array.isArray(list) ? (list as EnvEntry[]) : []) {
    const name = entry.name as string;
    const value = changes.get(name);
    if (value === undefined) out.push(entry);
    else if (value !== '' && !done.has(name)) out.push({ name, value });
    if (value !== undefined) done.add(name);
  }
  for (const [name, value] of changes)
    if (!done.has(name) && value !== '') out.push({ name, value });
  return out;
}

function localEnv(list: readonly EnvEntry[]): EnvVar[] {
  return list
    .filter((e) => e.valueFrom === undefined || e.valueFrom === null)
    .map((e) => ({ name: e.name as string, value: typeof e.value === 'string' ? e.value : '' }));
}

function withEnv(plugin: PluginDefinition, changes: ReadonlyMap<string, string>): PluginDefinition {
  const manifest = structuredClone(plugin.manifest) as Record<string, unknown>;
  const spec = (manifest.spec ?? {}) as Record<string, unknown>;
  spec.env = editEnv(spec.env, changes);
  manifest.spec = spec;
  const podSpec = manifest.podSpec as Record<string, unknown> | null | undefined;
  if (podSpec && Array.isArray(podSpec.containers)) {
    for (const c of podSpec.containers as Record<string, unknown>[])
      c.env = editEnv(c.env, changes);
  }
  const container = { ...plugin.container, env: localEnv(spec.env as EnvEntry[]) };
  return deepFreeze({ ...plugin, container, manifest });
}

/**
 * Applies `--plugin-env PLUGIN.KEY=VALUE` settings the way Sonobuoy does: to `spec.env` and to
 * the env of every `podSpec.containers[]`; an empty VALUE removes the variable. Settings for
 * `sonobuoy` (the aggregator) are left to the caller. Returns new frozen definitions.
 */
export function applyPluginEnv(
  plugins: readonly PluginDefinition[],
  entries: readonly string[],
): readonly PluginDefinition[] {
  const names = plugins.map((p) => p.name);
  const byPlugin = new Map<string, Map<string, string>>();
  for (const entry of entries) {
    const s = parsePluginEnvFlag(entry, [...names, RESERVED_PLUGIN_NAME]);
    if (s.plugin === RESERVED_PLUGIN_NAME) continue;
    if (!names.includes(s.plugin)) {
      throw badFlag(
        entry,
        `no plugin named "${s.plugin}" in this run (plugins: ${names.join(', ') || 'none'})`,
      );
    }
    const changes = byPlugin.get(s.plugin) ?? new Map<string, string>();
    changes.set(s.key, s.value); // the last setting of a key wins
    byPlugin.set(s.plugin, changes);
  }
  return Object.freeze(
    plugins.map((p) => {
      const changes = byPlugin.get(p.name);
      return changes ? withEnv(p, changes) : p;
    }),
  );
}

/**
 * `--plugin-image NAME:IMAGE`: replaces the image of the named plugins' container. A name that
 * is not in the run is refused. A built-in plugin was generated with its image already.
 */
export function applyPluginImages(
  plugins: readonly PluginDefinition[],
  images: Readonly<Record<string, string>>,
): readonly PluginDefinition[] {
  const names = plugins.map((p) => p.name);
  for (const [name, image] of Object.entries(images)) {
    if (!names.includes(name)) {
      throw new FathomError(
        'FATHOM_BAD_FLAG_VALUE',
        `--plugin-image ${JSON.stringify(`${name}:${image}`)}: no plugin named "${name}" in this run (plugins: ${names.join(', ') || 'none'})`,
        { details: { flag: '--plugin-image', value: `${name}:${image}` } },
      );
    }
  }
  return Object.freeze(
    plugins.map((p) => {
      const image = images[p.name];
      if (image === undefined || p.source.file === `<built-in ${p.name}>`) return p;
      const manifest = structuredClone(p.manifest) as Record<string, unknown>;
      manifest.spec = { ...((manifest.spec ?? {}) as Record<string, unknown>), image };
      return deepFreeze({ ...p, container: { ...p.container, image }, manifest });
    }),
  );
}
