/**
 * Starting and stopping control-plane processes, with real child processes: process groups,
 * SIGTERM then SIGKILL, and `cluster:down`'s guard against reused pids. Time is a ManualClock;
 * real exits are awaited through exit events and /proc.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock, flushMicrotasks } from '../../src/core/clock.js';
import { whenInDir } from '../support/wait.js';
import {
  isAlive,
  restartProcess,
  rssKib,
  runsBinary,
  startProcess,
  stopProcesses,
} from './processes.js';
import type { StartedProcess } from './processes.js';
import { liveProcesses, readState, stopRecordedCluster, writeState } from './state.js';

const node = process.execPath;
const idle = ['-e', 'setInterval(() => {}, 1 << 30)'];
let dir: string;
const leftovers: StartedProcess[] = [];

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fathom-proc-test-'));
});

afterEach(async () => {
  for (const p of leftovers.splice(0)) {
    try {
      process.kill(-p.pid, 'SIGKILL');
    } catch {
      // already gone
    }
    await p.exited;
  }
  await rm(dir, { recursive: true, force: true });
});

async function start(args: string[], name = 'p'): Promise<StartedProcess> {
  const p = await startProcess('etcd', node, args, { log: join(dir, `${name}.log`) });
  leftovers.push(p);
  return p;
}

/** Lets I/O callbacks run until the code under test sleeps on the clock. */
async function untilSleeping(clock: ManualClock, done: () => boolean = () => false): Promise<void> {
  while (clock.pending === 0 && !done()) await flushMicrotasks();
}

describe('startProcess / stopProcesses', () => {
  it('runs the binary in its own process group with output in the log, and reports RSS', async () => {
    const p = await start([
      '-e',
      'console.log("pgid", require("child_process").execSync("ps -o pgid= -p " + process.pid).toString().trim()); setInterval(() => {}, 1 << 30)',
    ]);
    const line = await whenInDir(
      dir,
      async () => (await readFile(p.log, 'utf8')).match(/pgid (\d+)/)?.[1],
    );
    expect(Number(line)).toBe(p.pid); // group leader: stop() can signal exactly this group
    expect(await runsBinary(p.pid, node)).toBe(true);
    expect(await rssKib(p.pid)).toBeGreaterThan(1000);
  });

  it('fails clearly when the binary does not exist', async () => {
    await expect(
      startProcess('kwok', join(dir, 'no-such-kwok'), [], { log: join(dir, 'x.log') }),
    ).rejects.toThrow(/kwok: cannot start .*no-such-kwok: .*ENOENT/);
  });

  it('stops with SIGTERM without waiting on the clock when the process obeys', async () => {
    const clock = new ManualClock();
    const p = await start(idle);
    await stopProcesses([p], clock, 10_000);
    expect(p.child.signalCode).toBe('SIGTERM');
    expect(clock.now()).toBe(new ManualClock().now()); // no grace period used
  });

  it('kills the whole group with SIGKILL after the grace period when SIGTERM is ignored', async () => {
    const clock = new ManualClock();
    // The shell and its background child both ignore SIGTERM; the child's pid goes to the log.
    const p = await startProcess(
      'kwok',
      '/bin/sh',
      ['-c', 'trap "" TERM; sleep 1000 & echo "child $!"; wait'],
      {
        log: join(dir, 'sh.log'),
      },
    );
    leftovers.push(p);
    const grandchild = Number(
      await whenInDir(dir, async () => (await readFile(p.log, 'utf8')).match(/child (\d+)/)?.[1]),
    );
    expect(await isAlive(grandchild)).toBe(true);
    const stopping = stopProcesses([p], clock, 5_000);
    await untilSleeping(clock); // SIGTERM sent, waiting out the grace period
    expect(await isAlive(p.pid)).toBe(true);
    await clock.advance(5_000);
    await stopping;
    expect(p.child.signalCode).toBe('SIGKILL');
    // The group's SIGKILL reached the grandchild too; the kernel ends it asynchronously, and no
    // event reports a non-child's death: yield to the event loop until /proc shows it gone.
    while (await isAlive(grandchild)) await flushMicrotasks();
    expect(await isAlive(grandchild)).toBe(false);
  });
});

describe('restartProcess', () => {
  it('stops the process by its pid and starts the same command again, appending to its log', async () => {
    const clock = new ManualClock();
    const script =
      'console.log("up", process.pid, process.argv[1], process.env.FATHOM_RESTART_TEST); setInterval(() => {}, 1 << 30)';
    const first = await startProcess('kube-apiserver', node, ['-e', script, 'arg-1'], {
      log: join(dir, 'api.log'),
      env: { ...process.env, FATHOM_RESTART_TEST: 'env-1' },
    });
    leftovers.push(first);
    await whenInDir(dir, async () =>
      (await readFile(first.log, 'utf8')).includes(`up ${first.pid}`) ? true : undefined,
    );

    let down: boolean | undefined;
    const second = await restartProcess(first, clock, {
      graceMs: 5_000,
      // The outage: the old process is gone and the new one not started yet.
      whileDown: async () => {
        const lines = (await readFile(first.log, 'utf8')).trim().split('\n');
        down = !(await isAlive(first.pid)) && lines.length === 1;
      },
    });
    leftovers.push(second);
    expect(down).toBe(true);
    expect(first.child.signalCode).toBe('SIGTERM'); // stopped, and no grace period was needed
    expect(await isAlive(first.pid)).toBe(false);
    expect(second.pid).not.toBe(first.pid);
    expect([second.component, second.binary, second.log, second.args]).toEqual([
      first.component,
      first.binary,
      first.log,
      first.args,
    ]);
    const log = await whenInDir(dir, async () => {
      const text = await readFile(second.log, 'utf8');
      return text.includes(`up ${second.pid}`) ? text : undefined;
    });
    // Both runs' lines, with the same argument and environment.
    expect(log.trim().split('\n')).toEqual([
      `up ${first.pid} arg-1 env-1`,
      `up ${second.pid} arg-1 env-1`,
    ]);
    expect(clock.now()).toBe(new ManualClock().now());
  });
});

describe('recorded clusters (cluster:down)', () => {
  it('stops only recorded pids that still run the recorded binary, then forgets the record', async () => {
    const clock = new ManualClock();
    const ours = await start(idle, 'ours');
    const reused = await start(idle, 'reused'); // stands for a pid now used by another program
    await writeState(dir, {
      server: 'https://127.0.0.1:1',
      kubeconfig: join(dir, 'admin.kubeconfig'),
      ownsDir: false,
      processes: [
        { component: 'etcd', pid: ours.pid, binary: node, log: ours.log },
        { component: 'kwok', pid: reused.pid, binary: '/opt/not/this/binary', log: reused.log },
      ],
    });
    const state = (await readState(dir))!;
    expect((await liveProcesses(state)).map((p) => p.pid)).toEqual([ours.pid]);

    let finished = false;
    const stopping = stopRecordedCluster(dir, clock).finally(() => (finished = true));
    await ours.exited; // SIGTERM arrived; the next poll of /proc sees it gone
    expect(ours.child.signalCode).toBe('SIGTERM');
    // Under load the first poll may already see it gone, and no poll waits on the clock.
    await untilSleeping(clock, () => finished);
    if (!finished) await clock.advance(100);
    const stopped = await stopping;
    expect(stopped.map((p) => p.pid)).toEqual([ours.pid]);
    expect(await isAlive(reused.pid)).toBe(true);
    expect(await readState(dir)).toBeUndefined();
    expect(await stopRecordedCluster(dir, clock)).toEqual([]);
  });
});
