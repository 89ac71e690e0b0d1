/**
 * Cluster checks on the local backend, end to end with the built CLI: `checks up` with 3 nodes
 * and 2 dispatcher replicas; every check lands on exactly one agent; an agent killed with
 * SIGKILL loses its checks to the live ones within the expiry and a poll; the leader killed
 * with SIGKILL gives way to the other replica, which warms up and places every check once on
 * the live agents; both replicas killed come back with `checks up` at their addresses and a new
 * term; `checks results` shows ok runs; `checks down` leaves no process behind.
 * Waits poll the CLI's own answers against deadlines; short durations keep it to seconds.
 */
import { access, mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isAlive } from '../../src/backends/local/process/group.js';
import { fathom, tempDir } from '../support/cli.js';

interface State {
  leader?: string;
  term?: number;
  warmup: boolean;
  not_running: string;
  nodes: { name: string; configs: { config: { name: string } }[] }[];
  dangling: { name: string }[];
  replicas: { name: string; role: string }[];
}

interface Files {
  replicas: { name: string; url: string }[];
  agents: { node: string; url: string }[];
}

const CHECKS = ['alpha', 'bravo', 'charlie', 'delta', 'echo', 'foxtrot'];
const EXPIRY_MS = 3000;
const POLL_MS = 500;

const check = (name: string) => `
name: ${name}
type: command
interval: 1s
instances:
  - command: [${JSON.stringify(process.execPath)}, -e, 'process.exit(0)']
`;

let home = '';
const env = () => ({ FATHOM_HOME: home });
const pidOf = async (name: string): Promise<number> =>
  Number(await readFile(join(home, 'checks', `${name}.pid`), 'utf8'));

async function state(): Promise<State | undefined> {
  const r = await fathom(['checks', 'state', '-o', 'json'], env());
  return r.code === 0 ? (JSON.parse(r.stdout) as State) : undefined;
}

/** The checks each agent says it runs (its metrics), for the agents on `nodes`. */
async function agentsRun(files: Files, nodes: readonly string[]): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  for (const a of files.agents.filter((x) => nodes.includes(x.node))) {
    const text = await (await fetch(`${a.url}/metrics`)).text();
    const names = [...text.matchAll(/^fathom_check_status\{check_name="([^"]+)"/gm)].map(
      (m) => m[1]!,
    );
    out.set(a.node, names);
  }
  return out;
}

/**
 * Every check on exactly one of the live nodes, by the leader's state and by the agents' own
 * metrics; undefined while not yet so.
 */
async function placedOnce(files: Files, live: readonly string[]): Promise<State | undefined> {
  const s = await state();
  if (!s?.leader || s.warmup || s.dangling.length) return undefined;
  const placed = s.nodes.flatMap((n) =>
    n.configs.map((c) => ({ node: n.name, check: c.config.name })),
  );
  if (placed.some((p) => !live.includes(p.node))) return undefined;
  if (
    placed
      .map((p) => p.check)
      .sort()
      .join() !== CHECKS.join()
  )
    return undefined;
  const running = [...(await agentsRun(files, live)).values()].flat().sort();
  return running.join() === CHECKS.join() ? s : undefined;
}

/** Polls `probe` (each probe is a CLI run or an HTTP call) until it answers or the deadline. */
async function within<T>(
  ms: number,
  what: string,
  probe: () => Promise<T | undefined>,
): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await probe().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${ms} ms`);
  }
}

afterAll(async () => {
  if (!home) return;
  await fathom(['checks', 'down'], env());
  await rm(home, { recursive: true, force: true });
});

describe('fathom checks on the local backend', () => {
  it('places every check once, through an agent and a leader killed, and leaves nothing behind', async () => {
    home = await tempDir('checks-e2e');
    const configs = join(home, 'configs');
    await mkdir(configs);
    for (const c of CHECKS) await writeFile(join(configs, `${c}.yaml`), check(c));
    expect((await fathom(['cluster', 'create', '--nodes', '3'], env())).code).toBe(0);

    const up = await fathom(
      [
        'checks',
        'up',
        '-f',
        configs,
        '--replicas',
        '2',
        '--node-expiration',
        '3s',
        '--warmup',
        '1500ms',
        '--poll',
        `${POLL_MS}ms`,
        '--lease-duration',
        '2s',
        '--lease-renew',
        '250ms',
      ],
      env(),
    );
    expect(up.stderr).toMatch(
      /^Started 2 dispatcher replica\(s\) and 3 agent\(s\) \(node-1, node-2, node-3\)/,
    );
    expect(up.code).toBe(0);
    const files = JSON.parse(await readFile(join(home, 'checks', 'state.json'), 'utf8')) as Files;
    // Secrets are the user's alone.
    expect((await stat(join(home, 'checks', 'token'))).mode & 0o077).toBe(0);
    // A second `up` is refused while they run.
    const again = await fathom(['checks', 'up', '-f', configs], env());
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/^error: cluster checks already run/);

    const all = ['node-1', 'node-2', 'node-3'];
    const first = await within(20_000, 'every check on one agent', () => placedOnce(files, all));
    expect(first.replicas.map((r) => r.role).sort()).toEqual(['follower', 'leader']);

    // Kill the agent that runs the most checks.
    const busiest = [...first.nodes].sort((a, b) => b.configs.length - a.configs.length)[0]!.name;
    process.kill(await pidOf(`agent-${busiest}`), 'SIGKILL');
    const killedAt = Date.now();
    const live = all.filter((n) => n !== busiest);
    await within(20_000, 'every check on one live agent', () => placedOnce(files, live));
    // Expiry, a sweep (half of it) and a poll, plus the probes' own time.
    expect(Date.now() - killedAt).toBeLessThan(EXPIRY_MS * 1.5 + POLL_MS + 4000);

    // Kill the leader: the other replica takes the lease, warms up, places every check again.
    const before = (await state())!;
    const leader = before.leader!;
    process.kill(await pidOf(leader), 'SIGKILL');
    const after = await within(
      30_000,
      'a new leader with every check on one live agent',
      async () => {
        const s = await placedOnce(files, live);
        return s && s.leader !== leader ? s : undefined;
      },
    );
    expect(after.term!).toBeGreaterThan(before.term!);
    expect(after.replicas.find((r) => r.name === leader)!.role).toBe('unreachable');

    // Both replicas down (the second killed too): `checks up` restarts them where they were,
    // and a new term places every check once again.
    process.kill(await pidOf(after.leader!), 'SIGKILL');
    const restart = await fathom(['checks', 'up', '-f', configs], env());
    // The agent killed before comes back too.
    expect(restart.stderr).toBe(
      `Restarted dispatcher-1, dispatcher-2, agent-${busiest} at their addresses; the rest were running.\n`,
    );
    expect(restart.code).toBe(0);
    const restarted = await within(30_000, 'every check once after both replicas restarted', () =>
      placedOnce(files, all),
    );
    // A replica restarted under the leader's identity may take its own lease back in its term.
    expect(restarted.term!).toBeGreaterThanOrEqual(after.term!);
    expect(restarted.replicas.map((r) => r.role).sort()).toEqual(['follower', 'leader']);

    const results = await within(10_000, 'ok runs in the results', async () => {
      const r = await fathom(['checks', 'results', '-o', 'json'], env());
      const rows = JSON.parse(r.stdout) as { check: string; node: string; status: string }[];
      return rows.length === CHECKS.length && rows.every((x) => x.status === 'ok')
        ? rows
        : undefined;
    });
    expect(results.map((r) => r.check)).toEqual(CHECKS);
    expect(results.every((r) => all.includes(r.node))).toBe(true);
    const one = await fathom(['checks', 'results', 'alpha'], env());
    expect(one.stdout).toMatch(/alpha .* ok /);
    expect(one.stdout).not.toMatch(/bravo/);

    const pids = await Promise.all(
      (await readdir(join(home, 'checks')))
        .filter((f) => f.endsWith('.pid'))
        .map((f) => pidOf(f.slice(0, -4))),
    );
    expect(pids).toHaveLength(5);
    const down = await fathom(['checks', 'down'], env());
    expect(down.code).toBe(0);
    expect(pids.filter(isAlive)).toEqual([]);
    await expect(access(join(home, 'checks'))).rejects.toThrow();
    const gone = await fathom(['checks', 'state'], env());
    expect(gone.code).toBe(1);
    expect(gone.stderr).toMatch(/^error: no cluster checks run on the local backend/);
  });

  it('refuses bad flags in one line with nothing started, and says when nothing runs', async () => {
    const own = await tempDir('checks-bad');
    const e = { FATHOM_HOME: own };
    try {
      for (const [args, message] of [
        [
          ['checks', 'up', '--replicas', '0'],
          /^error: --replicas: expected a whole number above 0/,
        ],
        [['checks', 'up', '--warmup', 'soon'], /^error: --warmup: invalid duration "soon"/],
        [['checks', 'up', '-f', join(own, 'nope')], /^error: -f .*nope: not a directory/],
        [['checks', 'up', '--backend', 'kubernetes'], /^error: no kubeconfig found/],
      ] as const) {
        const r = await fathom(args, e);
        expect(r.stderr).toMatch(message);
        expect(r.stderr.trim().split('\n')).toHaveLength(1);
        expect(r.code).toBe(2);
      }
      await expect(access(join(own, 'checks'))).rejects.toThrow();
      const state = await fathom(['checks', 'state'], e);
      expect(state.code).toBe(1);
      expect(state.stderr).toMatch(/^error: no cluster checks run on the local backend/);
      const down = await fathom(['checks', 'down'], e);
      expect([down.code, down.stderr]).toEqual([0, 'No cluster checks were running.\n']);
    } finally {
      await rm(own, { recursive: true, force: true });
    }
  });
});
