/**
 * `plugin`: a Sonobuoy-format plugin run on this node as a local process under the worker's
 * contract (it writes results under RESULTS_DIR and names them in a `done` file), its results
 * post-processed as a run's are, the last run's kept under the instance's work directory.
 */
import { createReadStream, watch, type FSWatcher } from 'node:fs';
import { mkdir, readdir, readFile, realpath, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { DEFAULT_MAX_ARCHIVE_ENTRIES, extractUntrustedTar } from '../../core/untrusted-tar.js';
import { readFileAtMost } from '../../core/bounded.js';
import { FathomError } from '../../core/errors.js';
import { parsePluginDocuments } from '../../plugin/loader.js';
import { pluginLimits } from '../../plugin/limits.js';
import type { PluginDefinition } from '../../plugin/types.js';
import {
  formatCounts,
  isFailureStatus,
  leafCounts,
  postProcessPlugin,
  writeExitCode,
  writePluginResults,
} from '../../results/index.js';
import type { PluginInstance } from '../instances.js';
import { baseEnv, DEFAULT_MAX_OUTPUT_BYTES } from './command.js';
import { lastLine } from './message.js';
import { runCapped, type CappedResult } from './process.js';
import type { RunContext, RunOutcome } from './types.js';

/** The worker's done file, in the results directory. */
const DONE_FILE = 'done';
/** Bytes of results a run may unpack from an archive it names. */
const MAX_RESULT_BYTES = 1024 ** 3;
/** The previous run's directory, kept until the next run ends. */
export const LAST_RUN = 'last';
const CURRENT_RUN = 'current';

async function loadPlugin(file: string): Promise<PluginDefinition> {
  const text = await readFileAtMost(file, pluginLimits.fileBytes);
  if (!text) {
    throw new FathomError('FATHOM_PLUGIN_TOO_LARGE', `${file}: over the plugin file size limit`, {
      details: { file },
    });
  }
  const { plugins } = parsePluginDocuments(text.toString('utf8'), file);
  if (plugins.length !== 1) {
    throw new FathomError(
      'FATHOM_CONFIG_INVALID',
      `${file}: a plugin check runs one plugin, this file holds ${plugins.length}`,
      { details: { field: 'plugin', file } },
    );
  }
  return plugins[0]!;
}

function badDone(message: string, path: string): FathomError {
  return new FathomError('FATHOM_DONE_FILE_INVALID', message, { details: { path } });
}

function inside(dir: string, path: string): boolean {
  const rel = relative(dir, path);
  return rel === '' || (!rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel));
}

async function readDone(resultsDir: string): Promise<string | undefined> {
  try {
    const named = (await readFile(join(resultsDir, DONE_FILE), 'utf8')).trim();
    return named === '' ? undefined : named;
  } catch {
    return undefined;
  }
}

/** How the plugin ended: a result named in the done file, or its exit without one. */
type Ended = { named: string } | { exited: CappedResult };

/**
 * Runs the plugin until it names its result (the rest of its group is then killed, as a pod's
 * containers are) or exits. A done file written as the plugin exits still wins.
 */
async function runUntilDone(
  plugin: PluginDefinition,
  dirs: { results: string; config: string; work: string },
  ctx: RunContext,
): Promise<Ended & { output?: CappedResult }> {
  const [command, ...commandArgs] = plugin.container.command;
  if (!command) {
    throw new FathomError(
      'FATHOM_PLUGIN_INVALID',
      `plugin ${plugin.name} has no command to run on the node`,
      { details: { file: plugin.source.file } },
    );
  }
  const pluginDir = dirname(resolve(plugin.source.file));
  const stop = new AbortController();
  const onOuter = (): void => stop.abort(ctx.signal.reason);
  ctx.signal.addEventListener('abort', onOuter, { once: true });
  let named: string | undefined;
  const look = (): void => {
    void readDone(dirs.results).then((n) => {
      if (n !== undefined && named === undefined) {
        named = n;
        stop.abort(new Error('done'));
      }
    });
  };
  let watcher: FSWatcher | undefined;
  try {
    try {
      watcher = watch(dirs.results, (_event, file) => {
        if (file === DONE_FILE) look();
      });
      watcher.on('error', () => undefined);
    } catch {
      // No watch (inotify limits): the done file is then read when the plugin exits.
    }
    const env = {
      ...baseEnv(),
      TMPDIR: dirs.work,
      SONOBUOY: 'true',
      SONOBUOY_K8S_VERSION: '',
      SONOBUOY_RESULTS_DIR: dirs.results,
      RESULTS_DIR: dirs.results,
      SONOBUOY_CONFIG_DIR: dirs.config,
      NODE_NAME: ctx.node ?? '',
      FATHOM_PLUGIN_DIR: pluginDir,
      ...Object.fromEntries(plugin.container.env.map((e) => [e.name, e.value])),
    };
    const workingDir = plugin.container.workingDir;
    const exited = await runCapped({
      command: /^\.\.?\//.test(command) ? resolve(pluginDir, command) : command,
      args: [...commandArgs, ...plugin.container.args],
      env,
      cwd: workingDir && isAbsolute(workingDir) ? workingDir : dirs.work,
      maxOutputBytes: DEFAULT_MAX_OUTPUT_BYTES,
      signal: stop.signal,
    }).catch((err: unknown) => {
      if (named !== undefined && !ctx.signal.aborted) return undefined;
      throw err;
    });
    named ??= await readDone(dirs.results);
    if (named !== undefined) return exited ? { named, output: exited } : { named };
    return { exited: exited! };
  } finally {
    watcher?.close();
    ctx.signal.removeEventListener('abort', onOuter);
  }
}

/** Moves (or unpacks) what the done file names into `dest`, as the aggregator stores an upload. */
async function takeResult(resultsDir: string, named: string, dest: string): Promise<void> {
  const dir = await realpath(resultsDir);
  const target = resolve(dir, named);
  if (!inside(dir, target))
    throw badDone(`result path ${named} is outside the results directory`, named);
  let real: string;
  try {
    real = await realpath(target);
  } catch {
    throw badDone(`result path ${named} does not exist`, named);
  }
  if (!inside(dir, real))
    throw badDone(`result path ${named} leads outside the results directory`, named);
  const info = await stat(real);
  await mkdir(dirname(dest), { recursive: true });
  if (info.isDirectory()) {
    if (real === dir) await rm(join(dir, DONE_FILE), { force: true });
    await rename(real, dest);
    return;
  }
  if (!info.isFile())
    throw badDone(`result path ${named} is not a regular file or directory`, named);
  await mkdir(dest, { recursive: true });
  // The worker sends `.gz` as application/gzip, which the aggregator unpacks.
  if (real.toLowerCase().endsWith('.gz')) {
    await extractUntrustedTar(createReadStream(real), dest, {
      source: `result ${named}`,
      gzip: true,
      maxBytes: MAX_RESULT_BYTES,
      maxEntries: DEFAULT_MAX_ARCHIVE_ENTRIES,
      symlinks: 'downward',
      allowEmpty: true,
    });
    return;
  }
  await rename(real, join(dest, basename(real)));
}

async function isEmpty(dir: string): Promise<boolean> {
  return (await readdir(dir)).every((n) => n === DONE_FILE);
}

export async function runPlugin(instance: PluginInstance, ctx: RunContext): Promise<RunOutcome> {
  if (!ctx.workDir) {
    throw new FathomError(
      'FATHOM_INTERNAL',
      'plugin checks need a work directory; this agent has none',
    );
  }
  const plugin = await loadPlugin(instance.plugin);
  const run = join(ctx.workDir, CURRENT_RUN);
  await rm(run, { recursive: true, force: true });
  const dirs = {
    results: join(run, 'results'),
    config: join(run, 'config'),
    work: join(run, 'work'),
  };
  await Promise.all(Object.values(dirs).map((d) => mkdir(d, { recursive: true })));
  for (const [file, contents] of Object.entries(plugin.configMap)) {
    await writeFile(join(dirs.config, file), contents);
  }
  const ended = await runUntilDone(plugin, dirs, ctx);
  let named: string;
  if ('named' in ended) {
    named = ended.named;
  } else {
    const { exitCode, tail } = ended.exited;
    const said = lastLine(tail);
    if (plugin.exitCodeVerdict && exitCode !== undefined) {
      await writeExitCode(dirs.results, exitCode);
      named = '.';
    } else if (exitCode === 0 && !(await isEmpty(dirs.results))) {
      // Sonobuoy's fallback when the containers completed without a done file: the whole dir.
      named = '.';
    } else {
      const how = exitCode === undefined ? 'was killed' : `exited with code ${exitCode}`;
      await keep(ctx.workDir, run);
      return {
        status: 'critical',
        message: `plugin ${plugin.name} ${how} without a done file or any result${said ? `: ${said}` : ''}`,
        metrics: {},
      };
    }
  }
  const tree = join(run, 'tree');
  await takeResult(dirs.results, named, join(tree, 'plugins', plugin.name, 'results', 'global'));
  // Processed as one result of this node (a Job's tree), whatever the plugin's driver.
  const processed = { ...plugin, driver: 'Job' as const };
  const item = await postProcessPlugin(tree, processed);
  await writePluginResults(tree, processed, item);
  await keep(ctx.workDir, run);
  const counts = leafCounts(item);
  const failed = Object.entries(counts)
    .filter(([s]) => isFailureStatus(s))
    .reduce((n, [, c]) => n + c, 0);
  const metrics = { passed: counts.passed ?? 0, failed, skipped: counts.skipped ?? 0 };
  const summary = `${plugin.name}: ${formatCounts(new Map(Object.entries(counts))) || 'no results'}`;
  return { status: failed > 0 ? 'critical' : 'ok', message: summary, metrics };
}

/** The run just ended becomes the kept one. */
async function keep(workDir: string, run: string): Promise<void> {
  const last = join(workDir, LAST_RUN);
  await rm(last, { recursive: true, force: true });
  await rename(run, last);
}
