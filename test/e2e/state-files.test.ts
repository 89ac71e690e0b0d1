import { access, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fathom, localRunTrail, tempDir } from '../support/cli.js';

/**
 * The files a local run keeps (run.json, status.json) are read back with a schema: a corrupt
 * one is one `error:` line naming the file and the field, exit 2, never a stack; and `delete`
 * still removes the run, since the user has no other way to clean it up.
 */
describe('corrupt state files of a local run (built CLI)', () => {
  let home: string;
  let work: string;
  const env = (): NodeJS.ProcessEnv => ({ FATHOM_HOME: home });
  const runDir = (ns: string): string => join(home, 'runs', ns);
  const exists = (path: string): Promise<boolean> =>
    access(path).then(
      () => true,
      () => false,
    );

  /** A stack, or more than the one error line, would show here. */
  function oneErrorLine(stderr: string): string {
    const lines = stderr.trimEnd().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^error: /);
    expect(stderr).not.toMatch(/\n\s+at /);
    return lines[0]!;
  }

  beforeAll(async () => {
    home = await tempDir('state-home');
    work = await tempDir('state-work');
    await writeFile(
      join(work, 'quick.yaml'),
      `sonobuoy-config: {driver: Job, plugin-name: quick, result-format: raw}
spec:
  name: plugin
  image: busybox:1.36
  command: [sh, -c]
  args: ['echo ok > "$RESULTS_DIR/ok.txt"; echo "$RESULTS_DIR/ok.txt" > "$RESULTS_DIR/done"']
`,
    );
    const run = await fathom(
      ['run', '-n', 'done', '-p', join(work, 'quick.yaml'), '--wait', '--timeout', '60s'],
      env(),
    );
    // The run ends itself (--timeout) before the hook does, and then says where it stood.
    if (run.code !== 0) {
      const trail = await localRunTrail(home, 'done');
      expect(run.code, `${run.stderr.trim()} | ${trail}`).toBe(0);
    }
  }, 150_000);

  afterAll(async () => {
    await fathom(['delete', '-n', 'done'], env());
  });

  it('a finished run reads as before', async () => {
    const status = await fathom(['status', '-n', 'done', '-o', 'json'], env());
    expect(status.code).toBe(0);
    expect((JSON.parse(status.stdout) as { status: string }).status).toBe('complete');
  });

  it('a bad field in run.json: status, retrieve and logs name the file and field; delete cleans up', async () => {
    const ns = 'bad-field';
    await mkdir(runDir(ns), { recursive: true });
    const record = JSON.parse(await readFile(join(runDir('done'), 'run.json'), 'utf8')) as Record<
      string,
      unknown
    >;
    const nodes = record.nodes as { name: unknown }[];
    nodes[1]!.name = 7;
    await writeFile(join(runDir(ns), 'run.json'), JSON.stringify(record));
    const file = join(runDir(ns), 'run.json');

    for (const args of [
      ['status', '-n', ns],
      ['retrieve', '-n', ns, work],
      ['logs', '-n', ns],
    ]) {
      const r = await fathom(args, env());
      expect(oneErrorLine(r.stderr), args[0]).toBe(`error: ${file}: nodes[1].name: must be string`);
      expect(r.code, args[0]).toBe(2);
    }
    const del = await fathom(['delete', '-n', ns], env());
    expect(del.stderr).toBe(`Deleted the run in namespace "${ns}".\n`);
    expect(del.code).toBe(0);
    expect(await exists(runDir(ns))).toBe(false);
  });

  it('run.json that is not JSON, or was never written, can still be deleted', async () => {
    await mkdir(runDir('torn'), { recursive: true });
    await writeFile(join(runDir('torn'), 'run.json'), '{"uuid": "0f');
    const status = await fathom(['status', '-n', 'torn'], env());
    expect(oneErrorLine(status.stderr)).toMatch(
      new RegExp(`^error: ${join(runDir('torn'), 'run.json')}: not JSON \\(`),
    );
    expect(status.code).toBe(2);

    // Killed between making the directory and writing run.json: `run` would refuse the namespace.
    await mkdir(runDir('empty'), { recursive: true });
    const missing = await fathom(['status', '-n', 'empty'], env());
    expect(oneErrorLine(missing.stderr)).toBe('error: no run in namespace "empty"');

    for (const ns of ['torn', 'empty']) {
      const del = await fathom(['delete', '-n', ns], env());
      expect(del.stderr, ns).toBe(`Deleted the run in namespace "${ns}".\n`);
      expect(del.code, ns).toBe(0);
      expect(await exists(runDir(ns)), ns).toBe(false);
    }
    const gone = await fathom(['delete', '-n', 'empty'], env());
    expect(oneErrorLine(gone.stderr)).toBe('error: no run in namespace "empty"');
  });

  it('a corrupt status.json names the file and field', async () => {
    const ns = 'bad-status';
    await mkdir(runDir(ns), { recursive: true });
    await writeFile(
      join(runDir(ns), 'run.json'),
      await readFile(join(runDir('done'), 'run.json'), 'utf8'),
    );
    const status = JSON.parse(await readFile(join(runDir('done'), 'status.json'), 'utf8')) as {
      'tar-info': { size: unknown };
    };
    status['tar-info'].size = 'big';
    await writeFile(join(runDir(ns), 'status.json'), JSON.stringify(status));
    const r = await fathom(['status', '-n', ns], env());
    expect(oneErrorLine(r.stderr)).toBe(
      `error: ${join(runDir(ns), 'status.json')}: tar-info.size: must be integer`,
    );
    expect(r.code).toBe(2);
    expect((await fathom(['delete', '-n', ns], env())).code).toBe(0);
  });
});
