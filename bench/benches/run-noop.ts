/**
 * Issue 2 (a), issue 9: wall time of `fathom run --wait` with a no-op plugin pair (a Job and a
 * DaemonSet that only write their result and `done`) on 1, 10, 50 and 500 local nodes, next to
 * the floor that process start-up sets: `node -e ''`, `fathom --version`, and spawning a
 * `sh -c true` from Node (what each plugin container costs at least).
 */
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FATHOM_BIN, runTimed, stats, type Stats } from '../lib/measure.js';
import { ms, type Bench, type BenchResult } from '../lib/report.js';

/** `FATHOM_BENCH_RUN_NODES=1,50` runs a subset. */
const NODE_COUNTS = (process.env.FATHOM_BENCH_RUN_NODES ?? '1,10,50,500')
  .split(',')
  .map(Number)
  .filter((n) => Number.isInteger(n) && n > 0);
const REPS = 5;
/** 500 nodes take a while: fewer runs, still a median. */
const repsFor = (nodes: number): number => (nodes > 100 ? 3 : REPS);
const STARTUP_REPS = 7;
const SPAWNS = 500;

/**
 * What spawning `n` `sh -c true` from this Node process costs, started one after another and
 * awaited together (as the runtime starts plugin containers): wall per spawn.
 */
async function shSpawns(n: number): Promise<number> {
  const t = performance.now();
  const exits: Promise<unknown>[] = [];
  for (let i = 0; i < n; i++) {
    const child = spawn('/bin/sh', ['-c', 'true'], { detached: true, stdio: 'ignore' });
    exits.push(new Promise((r) => child.once('exit', r)));
  }
  await Promise.all(exits);
  return (performance.now() - t) / n;
}

const WRITE_DONE =
  'echo ok > "$SONOBUOY_RESULTS_DIR/out.txt" && echo "$SONOBUOY_RESULTS_DIR/out.txt" > "$SONOBUOY_RESULTS_DIR/done"';

function noopPlugin(name: string, driver: 'Job' | 'DaemonSet'): string {
  return [
    'sonobuoy-config:',
    `  driver: ${driver}`,
    `  plugin-name: ${name}`,
    '  result-format: raw',
    'spec:',
    '  name: plugin',
    '  image: busybox:1.36',
    '  command: [/bin/sh, -c]',
    '  args:',
    `  - ${JSON.stringify(WRITE_DONE)}`,
    '',
  ].join('\n');
}

async function startup(cmd: string, args: string[]): Promise<Stats> {
  const walls: number[] = [];
  for (let i = 0; i < STARTUP_REPS; i++) {
    const r = await runTimed(cmd, args);
    if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
    walls.push(r.wallMs);
  }
  return stats(walls);
}

export const runNoopBench: Bench = {
  name: 'run',
  description: 'fathom run --wait, no-op Job + DaemonSet, on 1/10/50/500 local nodes',
  async run(log): Promise<BenchResult> {
    const dir = await mkdtemp(join(tmpdir(), 'fathom-bench-run-'));
    try {
      const home = join(dir, 'home');
      await mkdir(home);
      const plugins = join(dir, 'noop.yaml');
      await writeFile(
        plugins,
        `${noopPlugin('noop-job', 'Job')}---\n${noopPlugin('noop-ds', 'DaemonSet')}`,
      );
      const env = { ...process.env, FATHOM_HOME: home };
      const fathom = async (args: string[], what: string): Promise<number> => {
        const r = await runTimed(process.execPath, [FATHOM_BIN, ...args], {
          env,
          timeoutMs: 180_000,
        });
        if (r.code !== 0) {
          throw new Error(
            `${what}: fathom ${args.join(' ')} exited ${r.code ?? r.signal}\n${r.stderr}`,
          );
        }
        return r.wallMs;
      };

      log('start-up floor: node -e "" and fathom --version');
      const bareNode = await startup(process.execPath, ['-e', '']);
      const version = await startup(process.execPath, [FATHOM_BIN, '--version']);
      log(`start-up floor: ${SPAWNS} × sh -c true from Node`);
      const perSpawn: number[] = [];
      for (let i = 0; i < 3; i++) perSpawn.push(await shSpawns(SPAWNS));
      const spawnMs = stats(perSpawn).median;
      // A run starts the CLI, the aggregator and the node host, and one plugin process per pod.
      const floorOf = (nodes: number): number => 3 * bareNode.median + (1 + nodes) * spawnMs;

      let seq = 0;
      /** What a failed run left: every plugin and node's status and the end of the logs. */
      const diagnose = async (ns: string): Promise<string> => {
        const show = async (args: string[]): Promise<string> => {
          const r = await runTimed(process.execPath, [FATHOM_BIN, ...args, '-n', ns], {
            env,
            captureStdout: true,
          });
          return `$ fathom ${args.join(' ')}\n${r.stdout}${r.stderr}`;
        };
        const logs = await show(['logs']);
        return `${await show(['status', '--show-all'])}\n${logs.split('\n').slice(-60).join('\n')}`;
      };
      /** The run's phase as `fathom status` reads it once everything has stopped. */
      const finalPhase = async (ns: string): Promise<string | undefined> => {
        const r = await runTimed(process.execPath, [FATHOM_BIN, 'status', '-n', ns, '-o', 'json'], {
          env,
          captureStdout: true,
        });
        try {
          return (JSON.parse(r.stdout) as { status?: string }).status;
        } catch {
          return undefined;
        }
      };
      // Runs whose `run --wait` exited 1 although the run completed (see the note in the table).
      const misreported: { nodes: number; namespace: string; stderr: string }[] = [];
      const once = async (nodes: number): Promise<number> => {
        const ns = `bench-${nodes}-${seq++}`;
        const args = ['run', '--wait', '-p', plugins, '--nodes', String(nodes), '-n', ns];
        const r = await runTimed(process.execPath, [FATHOM_BIN, ...args, '--timeout', '2m'], {
          env,
          timeoutMs: 180_000,
        });
        if (r.code !== 0) {
          if ((await finalPhase(ns)) !== 'complete') {
            throw new Error(
              `run on ${nodes} node(s): fathom ${args.join(' ')} exited ${r.code ?? r.signal}\n` +
                `${r.stderr}\n${await diagnose(ns)}`,
            );
          }
          // The wall time still ends when the aggregator has finished: keep it, but say so.
          misreported.push({ nodes, namespace: ns, stderr: r.stderr });
          log(`run on ${nodes} node(s) exited ${r.code} although the run completed`);
        }
        await fathom(['delete', '-n', ns], 'delete'); // not timed
        // The next size's run makes a cluster of its own --nodes.
        await fathom(['cluster', 'delete'], 'cluster delete');
        return r.wallMs;
      };
      await once(1); // warm-up: page cache, first compile of the CLI's modules

      const rows: { nodes: number; stats: Stats; walls: number[] }[] = [];
      for (const nodes of NODE_COUNTS) {
        const walls: number[] = [];
        for (let i = 0; i < repsFor(nodes); i++) {
          walls.push(await once(nodes));
          log(`run --wait on ${nodes} node(s): ${ms(walls.at(-1)!)}`);
        }
        rows.push({ nodes, stats: stats(walls), walls });
      }
      const first = rows[0]!.stats.median;
      const last = rows.at(-1)!;
      const perNode = (last.stats.median - first) / (last.nodes - 1);

      return {
        data: {
          startup: { bareNode, fathomVersion: version, shSpawnMs: spawnMs },
          runs: rows.map((r) => ({
            nodes: r.nodes,
            ...r.stats,
            wallsMs: r.walls,
            floorMs: floorOf(r.nodes),
          })),
          marginalPerNodeMs: perNode,
          misreported,
        },
        tables: [
          {
            title: '`fathom run --wait`, no-op Job + DaemonSet (local backend)',
            columns: [
              'case',
              'processes started',
              'wall (median)',
              'min – max',
              'floor',
              '× floor',
            ],
            rows: [
              [
                "`node -e ''` (floor)",
                '1',
                ms(bareNode.median),
                `${ms(bareNode.min)} – ${ms(bareNode.max)}`,
                '',
                '',
              ],
              [
                '`fathom --version`',
                '1',
                ms(version.median),
                `${ms(version.min)} – ${ms(version.max)}`,
                '',
                '',
              ],
              [
                '`sh -c true` spawned from Node (floor per plugin)',
                '1',
                ms(spawnMs),
                `${ms(Math.min(...perSpawn))} – ${ms(Math.max(...perSpawn))}`,
                '',
                '',
              ],
              ...rows.map((r) => [
                `run on ${r.nodes} node${r.nodes > 1 ? 's' : ''}`,
                // CLI + aggregator + node host (every worker) + a plugin per pod: one Job pod, one per node.
                String(3 + (1 + r.nodes)),
                ms(r.stats.median),
                `${ms(r.stats.min)} – ${ms(r.stats.max)}`,
                ms(floorOf(r.nodes)),
                `${(r.stats.median / floorOf(r.nodes)).toFixed(1)}×`,
              ]),
            ],
            notes: [
              `Median of ${REPS} runs (3 above 100 nodes; ${STARTUP_REPS} for start-up; the ${SPAWNS} spawns 3 times), after one warm-up run; \`fathom delete\` between runs is not timed. ` +
                `Each extra node costs about ${ms(perNode)}: a plugin process, and a worker instance in the run's one node host process. ` +
                'The floor is three Node start-ups (`fathom run`, the aggregator, the node host) plus one `sh -c true` spawn per pod.',
              ...(misreported.length
                ? [
                    `**${misreported.length} of ${1 + NODE_COUNTS.reduce((a, n) => a + repsFor(n), 0)} runs exited 1 ("The aggregator stopped before the run finished") although the run completed**: ` +
                      '`fathom status` reads status.json, then finds the aggregator already gone after it wrote "complete" and exited. Their times are kept.',
                  ]
                : []),
            ],
          },
        ],
      };
    } finally {
      // A failed run may have left its aggregator and pods behind: stop them before removing.
      await runTimed(process.execPath, [FATHOM_BIN, 'delete', '--all'], {
        env: { ...process.env, FATHOM_HOME: join(dir, 'home') },
      }).catch(() => undefined);
      await rm(dir, { recursive: true, force: true });
    }
  },
};
