/**
 * Exit codes that outlive the supervisor: a container run under the recorder ends with its real
 * exit code (and, killed, its signal) as read by a process for which the supervisor is gone.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../../core/clock.js';
import type { WorkloadRuntime } from '../../../core/workload.js';
import { untilPhase } from '../../../../test/support/workload-contract.js';
import { isAlive } from '../process/group.js';
import { executable } from './exit-record.js';
import { readWorkloadState, workloadNames } from './files.js';
import { createLocalWorkloadRuntime } from './runtime.js';

let home: string;
let runtime: WorkloadRuntime;
beforeAll(async () => {
  home = await mkdtemp(join(tmpdir(), 'fathom-exit-record-'));
  runtime = createLocalWorkloadRuntime({
    home,
    clock: systemClock,
    nodes: ['n1'],
    recordExits: true,
  });
});
afterAll(async () => {
  for (const n of await workloadNames(home)) await runtime.remove(n, { graceMs: 1000 });
  await rm(home, { recursive: true, force: true });
});

/** As another process reads it once this one (the supervisor) has died. */
const supervisorGone = (pid: number | undefined): boolean => pid !== process.pid && isAlive(pid);

const place = async (code: string) => {
  const name = `w-${randomBytes(4).toString('hex')}`;
  await runtime.place({
    name,
    owner: 'o',
    node: 'n1',
    containers: [{ name: 'c', command: [process.execPath, '-e', code] }],
  });
  return name;
};

describe('exit recorder', () => {
  it('a container that exits 3 reads as exit 3 once its supervisor is gone, not unknown', async () => {
    const name = await place('console.log("hi"); process.exit(3)');
    const live = await untilPhase(runtime, 'o', name, ['Failed']);
    expect(live.containers[0]).toMatchObject({ state: 'terminated', exitCode: 3 });
    const later = await readWorkloadState(home, name, supervisorGone);
    expect(later?.containers[0]).toMatchObject({
      state: 'terminated',
      exitCode: 3,
      reason: 'Error',
    });
    expect(later?.phase).toBe('Failed');
    // The recorder passes the output through unchanged.
    const out: Buffer[] = [];
    for await (const c of runtime.logs(name, 'c')) out.push(c);
    expect(Buffer.concat(out).toString()).toBe('hi\n');
  });

  it('a container that exits 0 reads as Completed; a live supervisor still sees a signal', async () => {
    const ok = await place('process.exit(0)');
    await untilPhase(runtime, 'o', ok, ['Succeeded']);
    expect((await readWorkloadState(home, ok, supervisorGone))?.containers[0]).toMatchObject({
      exitCode: 0,
      reason: 'Completed',
    });
    const killed = await place('process.kill(process.pid, "SIGKILL")');
    const s = await untilPhase(runtime, 'o', killed, ['Failed']);
    expect(s.containers[0]).toMatchObject({ state: 'terminated', reason: 'Killed' });
  });

  it('executable: paths and PATH lookups as spawn would find them', async () => {
    expect(await executable(process.execPath, '')).toBe(true);
    expect(await executable('node', process.env.PATH)).toBe(true);
    expect(await executable('no-such-command-here', process.env.PATH)).toBe(false);
    expect(await executable('./relative', process.env.PATH)).toBe(false);
  });
});
