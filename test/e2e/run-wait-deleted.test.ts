/**
 * `fathom run --wait` while someone deletes the run (`fathom delete` in another terminal): the
 * wait ends at once with one error line naming the run, instead of waiting for a run that is
 * gone (a wait once spun on the deleted directory, "restarting" an aggregator forever).
 */
import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fathom, tempDir } from '../support/cli.js';
import { whenInDir } from '../support/wait.js';

describe('run --wait and a delete from elsewhere', () => {
  it('ends the wait with one error line naming the run, exit 1', async () => {
    const work = await tempDir('wait-deleted');
    const env = { FATHOM_HOME: join(work, 'home') };
    const plugin = join(work, 'forever.yaml');
    const marks = join(work, 'marks');
    // A plugin that says it runs, then never reports: only the delete can end this run.
    await writeFile(
      plugin,
      `sonobuoy-config: {driver: Job, plugin-name: forever, result-format: raw}
spec:
  name: plugin
  image: busybox:1.36
  command: [sh, -c, ': > "${marks}/started"; exec sleep 600']
`,
    );
    const waiting = fathom(['run', '-n', 'gone', '-p', plugin, '--wait'], env);
    await whenInDir(marks, async () =>
      (await readdir(marks)).includes('started') ? true : undefined,
    );
    const deleted = await fathom(['delete', '-n', 'gone'], env);
    expect(deleted.code, deleted.stderr).toBe(0);
    const r = await waiting;
    expect(r.code).toBe(1);
    expect(
      r.stderr
        .trimEnd()
        .split('\n')
        .filter((l) => l.startsWith('error: ')),
    ).toEqual(['error: no run in namespace "gone"']);
  });
});
