/**
 * `fathom health --watch` on the local backend, as a user runs it: a run's Run object and its
 * pods are InProgress while a plugin waits on a gate file the test opens, and Current once the
 * run completes; Ctrl-C ends a `--until forever` watch cleanly.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fathom, fathomBin, tempDir } from '../support/cli.js';

const NS = 'e2e-health';

const gatedPlugin = (gate: string) => `
sonobuoy-config:
  driver: Job
  plugin-name: gated
  result-format: raw
spec:
  name: plugin
  image: busybox:1.36
  command: [sh, -c, 'while [ ! -e "$GATE" ]; do sleep 0.05; done; mkdir -p "$RESULTS_DIR/out" && echo ok > "$RESULTS_DIR/out/ok.txt" && echo "$RESULTS_DIR/out" > "$RESULTS_DIR/done"']
  env:
    - name: GATE
      value: ${gate}
`;

const manifest = `
apiVersion: fathom.dev/v1alpha1
kind: Run
metadata: {name: ${NS}}
---
apiVersion: v1
kind: Pod
metadata: {name: fathom-aggregator}
---
apiVersion: v1
kind: Pod
metadata: {name: fathom-gated-job}
`;

interface Line {
  type: string;
  kind: string;
  namespace: string;
  name: string;
  status: string;
  message: string;
}

/** The CLI in its own process, its JSON lines collected as they come. */
function watchProcess(args: string[], env: NodeJS.ProcessEnv) {
  const child: ChildProcess = spawn(process.execPath, [fathomBin, ...args], {
    env: { ...process.env, CI: 'true', NO_COLOR: '1', ...env },
  });
  const seen: Line[] = [];
  let stdout = '';
  let stderr = '';
  const waiters: { check: () => boolean; resolve: () => void }[] = [];
  const wake = (): void => {
    for (const w of [...waiters]) {
      if (w.check()) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve();
      }
    }
  };
  child.stdout!.on('data', (d: Buffer) => {
    stdout += d.toString();
    const parts = stdout.split('\n');
    stdout = parts.pop()!;
    for (const p of parts) if (p.trim()) seen.push(JSON.parse(p) as Line);
    wake();
  });
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number>((resolve) => child.on('close', (code) => resolve(code ?? -1)));
  return {
    child,
    seen,
    stderr: () => stderr,
    exited,
    /** Resolves once a line matching `match` has been printed (or the process ended). */
    saw(match: (l: Line) => boolean): Promise<void> {
      const check = (): boolean => seen.some(match) || child.exitCode !== null;
      if (check()) return Promise.resolve();
      return new Promise((resolve) => {
        waiters.push({ check, resolve });
        void exited.then(wake);
      });
    },
  };
}

describe('fathom health --watch on the local backend', () => {
  let home: string;
  let work: string;
  const env = (): NodeJS.ProcessEnv => ({ FATHOM_HOME: home });

  beforeAll(async () => {
    home = await tempDir('home');
    work = await tempDir('health-watch');
    await writeFile(join(work, 'gated.yaml'), gatedPlugin(join(work, 'gate')));
    await writeFile(join(work, 'run.yaml'), manifest);
  });
  afterAll(async () => {
    await fathom(['delete', '-n', NS], env());
  });

  it("reaches Current when the run completes, showing the Run's progress on the way", async () => {
    const started = await fathom(
      ['run', '-p', join(work, 'gated.yaml'), '--nodes', '2', '-n', NS, '--timeout', '2m'],
      env(),
    );
    expect(started.code).toBe(0);

    const w = watchProcess(
      [
        'health',
        '--watch',
        '-f',
        join(work, 'run.yaml'),
        '-n',
        NS,
        '--poll-interval',
        '100ms',
        '--timeout',
        '90s',
        '-o',
        'json',
      ],
      env(),
    );
    // The plugin cannot finish before the gate opens, so the run is seen in progress first.
    await w.saw((l) => l.kind === 'Run' && l.status === 'InProgress');
    const first = w.seen.find((l) => l.kind === 'Run')!;
    expect([first.namespace, first.name, first.status]).toEqual([NS, NS, 'InProgress']);
    // "0 of 0" until the aggregator has published its first status.
    expect(first.message).toMatch(/^0 of [01] results in$/);
    await writeFile(join(work, 'gate'), '');
    expect(await w.exited).toBe(0);
    expect(w.stderr()).toBe('');
    const last = (name: string) => w.seen.filter((l) => l.name === name).at(-1);
    expect(last(NS)).toMatchObject({ kind: 'Run', status: 'Current' });
    expect(last('fathom-gated-job')).toMatchObject({
      kind: 'Pod',
      status: 'Current',
      message: 'Pod has completed successfully',
    });
    expect((await fathom(['status', '-n', NS, '-o', 'json'], env())).stdout).toContain(
      '"status": "complete"',
    );
  });

  it('Ctrl-C ends a --until forever watch cleanly, exiting 0 when all is Current', async () => {
    const w = watchProcess(
      [
        'health',
        '--watch',
        '-f',
        join(work, 'run.yaml'),
        '-n',
        NS,
        '--until',
        'forever',
        '-o',
        'json',
      ],
      env(),
    );
    await w.saw((l) => l.name === 'fathom-gated-job');
    w.child.kill('SIGINT');
    expect(await w.exited).toBe(0);
    expect(w.stderr()).toBe('');
    expect(w.seen.map((l) => `${l.kind}/${l.name} ${l.status}`)).toEqual([
      `Run/${NS} Current`,
      'Pod/fathom-aggregator Current',
      'Pod/fathom-gated-job Current',
    ]);
  });
});
