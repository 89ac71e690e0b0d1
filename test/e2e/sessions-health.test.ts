/**
 * `fathom health` on sessions of the local backend, with the built CLI: `--watch -f` on the
 * user's own session file (no status) follows the stored session from InProgress to Current and
 * exits 0; a session that errors is Failed, named in the error line of the watch (at once with
 * --fail-fast, else at --timeout) and of the offline check of `session get -o json`. The driver waits for a file the test writes once the
 * watch has printed InProgress, so the order is the test's, not the machine's speed.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isAlive } from '../../src/backends/local/process/group.js';
import { fathom, fathomBin, tempDir, type CliResult } from '../support/cli.js';
import { whenInDir } from '../support/wait.js';

let home = '';
const env = () => ({ FATHOM_HOME: home });

/** A session of one server and a driver running `driverCode` (node), without status. */
async function sessionFile(name: string, driverCode: string): Promise<string> {
  const driver = join(home, `${name}-driver.js`);
  const server = join(home, 'server.js');
  await writeFile(driver, driverCode);
  await writeFile(
    server,
    'require("node:net").createServer((s) => s.end()).listen(Number(process.env.FATHOM_PORT), "127.0.0.1");',
  );
  const file = join(home, `${name}.yaml`);
  await writeFile(
    file,
    `apiVersion: fathom.dev/v1alpha1
kind: Session
metadata: { name: ${name} }
spec:
  timeout: 60s
  components:
    - { name: server, kind: server, pool: servers, port: 1, command: [${process.execPath}, ${server}] }
    - { name: driver, kind: driver, pool: drivers, command: [${process.execPath}, ${driver}] }
`,
  );
  return file;
}

/** The CLI in its own process, its output readable while it runs. */
function start(args: string[]) {
  const child = spawn(process.execPath, [fathomBin, ...args], {
    env: { ...process.env, CI: 'true', NO_COLOR: '1', FATHOM_HOME: home },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  const seen: { text: string; resolve: () => void }[] = [];
  child.stdout.on('data', (c: Buffer) => {
    stdout += c.toString();
    for (const w of seen.filter((x) => stdout.includes(x.text))) w.resolve();
  });
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const done = new Promise<CliResult>((resolve) =>
    child.on('close', (code) => resolve({ code: code ?? 1, stdout, stderr })),
  );
  return {
    done,
    /** Resolves once stdout holds `text`. */
    printed: (text: string) =>
      new Promise<void>((resolve) =>
        stdout.includes(text) ? resolve() : seen.push({ text, resolve }),
      ),
  };
}

/** The session's state once it is final, asking again at each change of the store (state.db). */
function finalState(name: string): Promise<string> {
  return whenInDir(home, async () => {
    const r = await fathom(['session', 'get', name, '-o', 'json'], env());
    const state = (JSON.parse(r.stdout) as { status?: { state: string } }).status?.state;
    return state === 'Succeeded' || state === 'Errored' || state === 'Cancelled'
      ? state
      : undefined;
  });
}

beforeAll(async () => {
  home = await tempDir('sessions-health');
  const cluster = join(home, 'cluster.yaml');
  await writeFile(
    cluster,
    'apiVersion: fathom.dev/v1alpha1\nkind: Cluster\nnodes:\n' +
      '  - {name: s1, labels: {pool: servers}}\n  - {name: d1, labels: {pool: drivers}}\n',
  );
  const r = await fathom(['cluster', 'create', '--config', cluster], env());
  expect(r.code, r.stderr).toBe(0);
});

afterAll(async () => {
  const pid = Number(
    await readFile(join(home, 'sessions', 'controller.pid'), 'utf8').catch(() => 0),
  );
  // Killed outright: nothing of it is needed once the home is removed.
  if (pid && isAlive(pid)) process.kill(pid, 'SIGKILL');
  await rm(home, { recursive: true, force: true });
});

describe('fathom health on local sessions', () => {
  it('--watch -f on the session file waits until the session succeeds, then exits 0', async () => {
    const go = join(home, 'go');
    const file = await sessionFile(
      'ok',
      `const fs = require("node:fs");
       const t = setInterval(() => { if (fs.existsSync(${JSON.stringify(go)})) { clearInterval(t); } }, 20);`,
    );
    // Before anything is stored: no state.db yet, the session is NotFound and nothing is created.
    const watch = start([
      'health',
      '--watch',
      '-f',
      file,
      '--timeout',
      '60s',
      '--poll-interval',
      '200ms',
    ]);
    await watch.printed('Session/fathom/ok NotFound');
    expect(existsSync(join(home, 'state.db'))).toBe(false);
    const submitted = await fathom(['session', 'submit', '-f', file], env());
    expect(submitted.code, submitted.stderr).toBe(0);
    await watch.printed('Session/fathom/ok InProgress');
    await writeFile(go, 'go');
    const r = await watch.done;
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const statuses = [...r.stdout.matchAll(/Session\/fathom\/ok (\w+)/g)].map((m) => m[1]);
    expect(statuses[0]).toBe('NotFound');
    expect(statuses.at(-1)).toBe('Current');
    expect(statuses.slice(1, -1).every((s) => s === 'InProgress')).toBe(true);

    // Offline, on what `session get -o yaml` prints (the object with its status): Current.
    const got = await fathom(['session', 'get', 'ok', '-o', 'yaml'], env());
    await writeFile(join(home, 'ok-got.yaml'), got.stdout);
    const offline = await fathom(['health', '-f', join(home, 'ok-got.yaml')], env());
    expect(offline.code, offline.stderr).toBe(0);
    expect(offline.stdout).toMatch(/Session\s+ok\s+Current/);
  });

  it('an errored session is Failed: the watch and the offline check exit 1 saying so', async () => {
    const file = await sessionFile('bad', 'process.exit(3)');
    expect((await fathom(['session', 'submit', '-f', file], env())).code).toBe(0);
    expect(await finalState('bad')).toBe('Errored');

    const watch = await fathom(['health', '--watch', '-f', file, '--timeout', '2s'], env());
    expect(watch.code).toBe(1);
    expect(watch.stdout).toMatch(/Session\/fathom\/bad Failed /);
    expect(watch.stderr).toBe(
      'error: timed out after 2s: 1 of 1 object(s) not yet Current (1 Failed)\n',
    );

    const fast = await fathom(['health', '--watch', '-f', file, '--fail-fast'], env());
    expect(fast.code).toBe(1);
    expect(fast.stderr).toMatch(
      /^error: 1 of 1 object\(s\) Failed, first Session\/fathom\/bad: driver has failed/,
    );

    const got = await fathom(['session', 'get', 'bad', '-o', 'json'], env());
    await writeFile(join(home, 'bad-got.json'), got.stdout);
    const offline = await fathom(['health', '-f', join(home, 'bad-got.json')], env());
    expect(offline.code).toBe(1);
    expect(offline.stdout).toMatch(/Session\s+bad\s+Failed/);
    expect(offline.stderr).toBe('error: 1 of 1 object(s) are not Current (1 Failed)\n');

    // The user's own file, without status, is not Current either.
    const fresh = await fathom(['health', '-f', file], env());
    expect(fresh.code).toBe(1);
    expect(fresh.stdout).toMatch(/Session\s+bad\s+InProgress\s+Resource has no status yet/);
  });
});
