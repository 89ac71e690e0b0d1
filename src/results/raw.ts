/**
 * `raw` (and empty or unknown) result formats: every selected file is a passed leaf naming it.
 *
 * Beyond Sonobuoy: a raw plugin may let its container's exit code be the verdict. Whoever runs the
 * plugin (the worker, or the local backend) and knows the exit code writes it, as decimal text,
 * to a file named `fathom-exit-code` in the results it uploads (`results/<node|global>/`). The
 * runner writes it only for plugins that opted in, so its mere presence is the opt-in here. That
 * file becomes the leaf `fathom-exit-code` with `meta.exit-code` and status passed for 0, failed
 * otherwise (unknown, with `meta.error`, if unreadable). It is honoured even when `result-files`
 * does not list it. Sonobuoy readers see an ordinary leaf.
 */
import { stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type Item, STATUS_FAILED, STATUS_PASSED, STATUS_UNKNOWN } from './item.js';
import { readCapped } from './manual.js';

/** The file holding a raw plugin's container exit code. */
export const EXIT_CODE_FILE = 'fathom-exit-code';

/** For runners: records `code` as the verdict of a raw plugin that opted in. */
export async function writeExitCode(resultsDir: string, code: number): Promise<void> {
  await writeFile(join(resultsDir, EXIT_CODE_FILE), `${code}\n`);
}

/** One raw file as a leaf; `rel` is relative to the plugin directory. */
export async function readRaw(path: string, rel: string, name: string): Promise<Item> {
  const item: Item = { name, status: STATUS_PASSED, meta: { file: rel } };
  try {
    await stat(path);
  } catch (err) {
    item.status = STATUS_FAILED;
    item.meta!.error = (err as Error).message;
    return item;
  }
  if (name !== EXIT_CODE_FILE) return item;
  try {
    const text = (await readCapped(path, 64)).trim();
    if (!/^-?\d+$/.test(text)) throw new Error(`not an exit code: ${JSON.stringify(text)}`);
    const code = Number(text);
    item.meta!['exit-code'] = String(code);
    item.status = code === 0 ? STATUS_PASSED : STATUS_FAILED;
  } catch (err) {
    item.status = STATUS_UNKNOWN;
    item.meta!.error = (err as Error).message;
  }
  return item;
}
