import { watch } from 'node:fs';
import { mkdir } from 'node:fs/promises';

/**
 * Resolves once `check` returns a value, re-checking whenever something in `dir` changes:
 * event-driven, no polling sleeps. Rejects after `limitMs` so a broken run fails the test.
 */
export async function whenInDir<T>(
  dir: string,
  check: () => Promise<T | undefined>,
  limitMs = 30_000,
): Promise<T> {
  await mkdir(dir, { recursive: true });
  return new Promise<T>((resolve, reject) => {
    let busy = false;
    let again = false;
    const watcher = watch(dir, { recursive: false }, () => void probe());
    const limit = setTimeout(
      () => finish(new Error(`nothing appeared in ${dir} within ${limitMs} ms`)),
      limitMs,
    );
    const finish = (err: Error | undefined, value?: T): void => {
      clearTimeout(limit);
      watcher.close();
      if (err) reject(err);
      else resolve(value as T);
    };
    const probe = async (): Promise<void> => {
      if (busy) {
        again = true;
        return;
      }
      busy = true;
      do {
        again = false;
        const value = await check().catch(() => undefined);
        if (value !== undefined) return finish(undefined, value);
      } while (again);
      busy = false;
    };
    void probe();
  });
}
