import type { ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, utimes } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { systemClock } from '../../../core/clock.js';
import {
  daemonFiles,
  daemonPid,
  restartDaemon,
  spawnDaemon,
  spawnReadyDaemon,
  withRestartsHeld,
  type DaemonSpec,
} from './daemon.js';
import { whenInDir } from '../../../../test/support/wait.js';
import { isAlive } from './group.js';

let dir: string;
let spec: DaemonSpec;
const started: ChildProcess[] = [];

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fathom-daemon-'));
  spec = {
    name: 'sleeper',
    argv: [process.execPath, '-e', "console.log('up'); setInterval(() => {}, 1000)"],
    files: daemonFiles(dir, 'sleeper'),
  };
});
afterEach(async () => {
  for (const c of started) c.kill('SIGKILL');
  const last = await daemonPid(spec);
  if (isAlive(last)) process.kill(last!, 'SIGKILL');
  await rm(dir, { recursive: true, force: true });
});

const gone = (child: ChildProcess): Promise<unknown> =>
  child.exitCode !== null || child.signalCode !== null
    ? Promise.resolve()
    : new Promise((r) => child.once('exit', r));

describe('detached daemons', () => {
  it('records the pid, logs to its file, and is restarted within its budget', async () => {
    const first = await spawnDaemon(spec);
    started.push(first);
    expect(await daemonPid(spec)).toBe(first.pid);
    expect(isAlive(first.pid)).toBe(true);
    const logged = (lines: string): Promise<true> =>
      whenInDir(dir, async () => (await readFile(spec.files.log, 'utf8')) === lines || undefined);
    await logged('up\n');

    first.kill('SIGKILL');
    await gone(first);
    expect(await restartDaemon(spec, systemClock, { limit: 1 })).toBe(true);
    const second = (await daemonPid(spec))!;
    expect(second).not.toBe(first.pid);
    expect(isAlive(second)).toBe(true);
    expect(await readFile(spec.files.restarts, 'utf8')).toBe('1');
    await logged('up\nup\n'); // appended to the same log
    // Alive: nothing to do, and the budget is not spent on it.
    expect(await restartDaemon(spec, systemClock, { limit: 5 })).toBe(true);
    expect(await daemonPid(spec)).toBe(second);
    process.kill(second, 'SIGKILL');
    while (isAlive(second)) await new Promise((r) => setImmediate(r));
    // The budget of one restart is spent.
    expect(await restartDaemon(spec, systemClock, { limit: 1 })).toBe(false);
    expect(await daemonPid(spec)).toBe(second);
  });

  it('leaves the restart to whoever holds a fresh lock', async () => {
    await mkdir(spec.files.lock);
    expect(await restartDaemon(spec, systemClock, { limit: 5 })).toBe(true);
    expect(await daemonPid(spec)).toBeUndefined(); // not started here
  });

  it('fails, not waits, when its directory is gone (a deleted run)', async () => {
    await rm(dir, { recursive: true, force: true });
    await expect(restartDaemon(spec, systemClock, { limit: 5 })).rejects.toThrow(/ENOENT/);
  });

  it('holds restarts while a delete stops it: nobody starts it again meanwhile', async () => {
    const first = await spawnDaemon(spec);
    started.push(first);
    const seen = await withRestartsHeld(spec, systemClock, async () => {
      first.kill('SIGKILL');
      await gone(first);
      // What a `status` elsewhere does on finding it stopped: leaves it to the lock's holder.
      expect(await restartDaemon(spec, systemClock, { limit: 5 })).toBe(true);
      return daemonPid(spec);
    });
    expect(seen).toBe(first.pid);
    expect(isAlive(first.pid)).toBe(false);
  });

  it('takes over a stale lock, and fails when the directory is gone', async () => {
    await mkdir(spec.files.lock);
    const old = new Date(Date.now() - 60_000);
    await utimes(spec.files.lock, old, old);
    expect(await withRestartsHeld(spec, systemClock, () => Promise.resolve('held'))).toBe('held');
    await rm(dir, { recursive: true, force: true });
    await expect(
      withRestartsHeld(spec, systemClock, () => Promise.resolve('held')),
    ).rejects.toThrow(/ENOENT/);
  });

  it('hears a ready message sent before anyone awaited it (the node host was waited for forever)', async () => {
    const said = join(dir, 'said');
    const ready: DaemonSpec = {
      ...spec,
      name: 'ready',
      // Says it is ready at once, lets the channel go, then marks that it has.
      argv: [
        process.execPath,
        '-e',
        `process.send({ ready: true }, () => { process.disconnect(); require('node:fs').writeFileSync(${JSON.stringify(said)}, ''); }); setInterval(() => {}, 1000);`,
      ],
      files: daemonFiles(dir, 'ready'),
    };
    const { child, ready: isReady } = await spawnReadyDaemon(ready);
    started.push(child);
    await whenInDir(dir, async () => (await readFile(said).then(() => true)) || undefined);
    await expect(isReady).resolves.toEqual({ ready: true });
  });

  it('a daemon that exits before it is ready fails the wait, naming its log', async () => {
    const { ready } = await spawnReadyDaemon({
      ...spec,
      name: 'quitter',
      argv: [process.execPath, '-e', 'process.exit(3)'],
      files: daemonFiles(dir, 'quitter'),
    });
    await expect(ready).rejects.toThrow(
      /^quitter exited \(code 3\) before it was ready; see .*quitter\.log$/,
    );
  });
});
