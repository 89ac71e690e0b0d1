/**
 * What bin/fathom.js and bin/kubectl-fathom.js run: the module compile cache first (Node ≥ 22.1),
 * then the CLI. Only node: builtins are imported statically here, so that everything else is
 * loaded after the cache is on and comes from it on the next start.
 */
import module from 'node:module';
import { homedir } from 'node:os';
import { isAbsolute, join } from 'node:path';

/** The OS's per-user cache directory (XDG on Linux), where fathom keeps what it can rebuild. */
export function userCacheDir(
  env: NodeJS.ProcessEnv = process.env,
  platform: NodeJS.Platform = process.platform,
  home: string = homedir(),
): string {
  if (platform === 'darwin') return join(home, 'Library', 'Caches');
  if (platform === 'win32') return env.LOCALAPPDATA || join(home, 'AppData', 'Local');
  const xdg = env.XDG_CACHE_HOME;
  return xdg && isAbsolute(xdg) ? xdg : join(home, '.cache');
}

export type CompileCacheState = 'enabled' | 'already' | 'unsupported' | 'failed' | 'disabled';

type EnableCompileCache = (dir?: string) => { status: number; message?: string };

/**
 * Turns on V8's code cache for every module loaded after this call. Node 20 has no such API and
 * runs as before; Node's own NODE_COMPILE_CACHE (a directory) and NODE_DISABLE_COMPILE_CACHE=1
 * win over ours. Never throws: a cache it cannot write costs start-up time, not the command.
 */
export function enableCompileCache(env: NodeJS.ProcessEnv = process.env): CompileCacheState {
  const enable = (module as { enableCompileCache?: EnableCompileCache }).enableCompileCache;
  if (typeof enable !== 'function') return 'unsupported';
  if (env.NODE_DISABLE_COMPILE_CACHE) return 'disabled';
  try {
    const { status } = enable(join(userCacheDir(env), 'fathom', 'node-compile-cache'));
    const { compileCacheStatus: s } = module as unknown as {
      compileCacheStatus: Record<'ENABLED' | 'ALREADY_ENABLED', number>;
    };
    if (status === s.ENABLED) return 'enabled';
    return status === s.ALREADY_ENABLED ? 'already' : 'failed';
  } catch {
    return 'failed';
  }
}

/** Runs the CLI as `name` (the program name its help shows) and sets the process's exit code. */
export async function launch(name: string): Promise<void> {
  enableCompileCache();
  // A closed pipe (`fathom logs | head`) ends the output, not the program with a stack trace.
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
      throw err;
    });
  }
  const [{ main }, { processIo }] = await Promise.all([
    import('./main.js'),
    import('./context.js'),
  ]);
  process.exitCode = await main(process.argv, processIo, { name });
}

/**
 * `kubectl_complete-fathom WORDS... CUR`: kubectl (≥ 1.26) runs it to complete
 * `kubectl fathom ...` and reads cobra's `__complete` answer (completion/cobra.ts).
 */
export async function launchKubectlCompletion(words: readonly string[]): Promise<void> {
  enableCompileCache();
  const [{ buildProgram }, { processIo }, { completionTree }, { cobraComplete, cobraOutput }] =
    await Promise.all([
      import('./main.js'),
      import('./context.js'),
      import('./completion/model.js'),
      import('./completion/cobra.js'),
    ]);
  const tree = completionTree(buildProgram(processIo, { name: 'kubectl fathom' }));
  process.stdout.write(cobraOutput(cobraComplete(tree, words)));
}
