/** The peers the benches compare fathom with, as test/peers/build.sh builds them. */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { REPO_ROOT } from './measure.js';

/** The Sonobuoy v0.57.5 binary (build.sh builds it once, then only prints its path). */
export async function sonobuoyPath(): Promise<{ path?: string; problem?: string }> {
  try {
    const { stdout } = await promisify(execFile)(
      'bash',
      [join(REPO_ROOT, 'test', 'peers', 'build.sh')],
      { cwd: REPO_ROOT, timeout: 600_000 },
    );
    const path = stdout.trim().split('\n').at(-1) ?? '';
    return existsSync(path) ? { path } : { problem: `test/peers/build.sh printed ${path}` };
  } catch (err) {
    return { problem: `Sonobuoy could not be built: ${(err as Error).message.split('\n')[0]}` };
  }
}
