import { mkdir, readdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** Writes a file by rename, so a reader in another process never sees half of it. */
export async function writeFileAtomic(path: string, text: string): Promise<void> {
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, text);
  await rename(tmp, path);
}

/** Writes a pid file atomically. */
export function writePidFile(path: string, pid: number): Promise<void> {
  return writeFileAtomic(path, String(pid));
}

/** The pid in a pid file; undefined when there is none or it is not a number. */
export async function readPidFile(path: string): Promise<number | undefined> {
  const text = await readFile(path, 'utf8').catch(() => '');
  return Number(text.trim()) || undefined;
}

/**
 * A directory of the processes something started, one file per pid (named by the pid, holding
 * its owner, e.g. `pod/container`): what is left to stop when the starter died before it could.
 */
export class PidRegistry {
  constructor(readonly dir: string) {}

  async record(pid: number, owner: string): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    // Hidden while written: readers list only names that are whole numbers.
    const tmp = join(this.dir, `.${pid}.tmp`);
    await writeFile(tmp, `${owner}\n`);
    await rename(tmp, join(this.dir, String(pid)));
  }

  /** Every recorded pid with its owner. */
  async read(): Promise<Map<number, string>> {
    const out = new Map<number, string>();
    const names = await readdir(this.dir).catch(() => [] as string[]);
    for (const name of names) {
      if (!/^\d+$/.test(name)) continue;
      const owner = await readFile(join(this.dir, name), 'utf8').catch(() => '');
      out.set(Number(name), owner.trim());
    }
    return out;
  }
}
