/**
 * Issue 12 item 5: `fathom --version` and `fathom results` on a small Sonobuoy tarball (the built
 * CLI) on the machine's Node (20) and on the current LTS (24, from test/node/install.sh), beside
 * `node -e 0` (the floor), with the module compile cache off (NODE_DISABLE_COMPILE_CACHE=1) and
 * warm (a cache dir of its own, filled by one run first). Node 20 has no compile cache: its two
 * rows of a command must agree. `sonobuoy results` (v0.57.5, test/peers/build.sh) on the same
 * tarball is timed in the same loop, interleaved with them.
 */
import { existsSync } from 'node:fs';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { FATHOM_BIN, REPO_ROOT, runTimed, stats } from '../lib/measure.js';
import { sonobuoyPath } from '../lib/peers.js';
import { ms, type Bench, type BenchResult } from '../lib/report.js';

const REPS = 20;
/** The `node` of Sonobuoy's row: a Go binary, on no Node. */
const GO = 'Go (sonobuoy v0.57.5)';

/** Sonobuoy's own small results tarball (no meta/info.json: the plugin is named). */
const SMALL_TARBALL = join(
  REPO_ROOT,
  '..',
  'shared/conformance/sonobuoy/cmd/sonobuoy/app/testdata/testResultsOutput.tar.gz',
);

interface Variant {
  label: string;
  args: string[];
  cache: boolean;
}

function variants(): Variant[] {
  const fathom = (label: string, args: string[]): Variant[] => [
    { label: `${label}, no cache`, args: [FATHOM_BIN, ...args], cache: false },
    { label: `${label}, warm cache`, args: [FATHOM_BIN, ...args], cache: true },
  ];
  return [
    { label: 'node -e 0', args: ['-e', '0'], cache: false },
    ...fathom('fathom --version', ['--version']),
    ...(existsSync(SMALL_TARBALL)
      ? fathom('fathom results (small tarball)', ['results', SMALL_TARBALL, '-p', 'e2e'])
      : []),
  ];
}

interface Figure {
  node: string;
  variant: string;
  wallMs: number[];
}

async function node24(): Promise<string> {
  const { stdout } = await promisify(execFile)(
    'bash',
    [join(REPO_ROOT, 'test', 'node', 'install.sh')],
    { timeout: 300_000 },
  );
  return stdout.trim().split('\n').at(-1)!;
}

export const startupBench: Bench = {
  name: 'startup',
  description:
    '`fathom --version`/`results` on Node 20 and 24, compile cache off and warm, beside `node -e 0` and `sonobuoy results`',
  async run(log): Promise<BenchResult> {
    const nodes: { label: string; path: string }[] = [
      { label: `machine's (${process.version})`, path: process.execPath },
    ];
    const notes: string[] = [];
    try {
      const path = await node24();
      const { stdout } = await promisify(execFile)(path, ['--version']);
      nodes.push({ label: `LTS (${stdout.trim()})`, path });
    } catch (err) {
      notes.push(`Node 24 could not be installed: ${(err as Error).message.split('\n')[0]}`);
    }
    if (process.env.NODE_EXTRA_CA_CERTS)
      notes.push(
        'NODE_EXTRA_CA_CERTS is set here: Node 20 reads those certificates at every start ' +
          '(about 60 ms on the machine of issue 12), Node 24 was not slowed by it; ' +
          '`env -u NODE_EXTRA_CA_CERTS npm run bench -- --only startup` compares without.',
      );
    const sonobuoy = existsSync(SMALL_TARBALL) ? await sonobuoyPath() : {};
    if (sonobuoy.problem) notes.push(`\`sonobuoy results\` not timed: ${sonobuoy.problem}`);
    const cache = await mkdtemp(join(tmpdir(), 'fathom-bench-startup-'));
    const figures: Figure[] = [];
    try {
      const all = variants();
      if (all.length < 5) notes.push(`\`fathom results\` not timed: ${SMALL_TARBALL} is absent.`);
      const env = (v: Variant): NodeJS.ProcessEnv => {
        const { NODE_COMPILE_CACHE: _c, NODE_DISABLE_COMPILE_CACHE: _d, ...rest } = process.env;
        return v.cache
          ? { ...rest, XDG_CACHE_HOME: cache }
          : { ...rest, NODE_DISABLE_COMPILE_CACHE: '1' };
      };
      for (const node of nodes) {
        // Fills the cache, and checks each command works on this Node.
        for (const v of all.filter((x) => x.cache)) {
          const first = await runTimed(node.path, v.args, { env: env(v) });
          if (first.code !== 0)
            throw new Error(`${v.label} on ${node.label} exited ${first.code}: ${first.stderr}`);
        }
      }
      const peer = sonobuoy.path
        ? { path: sonobuoy.path, label: 'sonobuoy results (small tarball)' }
        : undefined;
      const key = (node: string, variant: string): string => `${node}\0${variant}`;
      const walls = new Map<string, number[]>();
      const record = (node: string, variant: string, wallMs: number): void => {
        const k = key(node, variant);
        walls.set(k, [...(walls.get(k) ?? []), wallMs]);
      };
      // Every command once per round, so that the machine's other work falls on all alike.
      for (let r = 0; r < REPS; r++) {
        for (const node of nodes) {
          for (const v of all) {
            const run = await runTimed(node.path, v.args, { env: env(v) });
            record(node.label, v.label, run.wallMs);
          }
        }
        if (peer) {
          const run = await runTimed(peer.path, ['results', SMALL_TARBALL, '-p', 'e2e']);
          if (run.code !== 0)
            throw new Error(`sonobuoy results exited ${run.code}: ${run.stderr.slice(0, 500)}`);
          record(GO, peer.label, run.wallMs);
        }
      }
      const rows = [
        ...nodes.flatMap((node) => all.map((v) => [node.label, v.label] as const)),
        ...(peer ? [[GO, peer.label] as const] : []),
      ];
      for (const [node, variant] of rows) {
        const wallMs = walls.get(key(node, variant))!;
        figures.push({ node, variant, wallMs });
        log(`${node} ${variant}: ${ms(stats(wallMs).median)}`);
      }
    } finally {
      await rm(cache, { recursive: true, force: true });
    }
    const median = (f: Figure): number => stats(f.wallMs).median;
    const floor = (node: string): number =>
      median(figures.find((f) => f.node === node && f.variant === 'node -e 0')!);
    const fathomResults = (node: string): Figure | undefined =>
      figures.find(
        (f) => f.node === node && f.variant === 'fathom results (small tarball), warm cache',
      );
    const peerFigure = figures.find((f) => f.node === GO);
    const ratios = peerFigure
      ? nodes.flatMap((n) => {
          const f = fathomResults(n.label);
          return f
            ? [
                `\`fathom results\` (warm cache) on ${n.label} / \`sonobuoy results\`: ${(median(f) / median(peerFigure)).toFixed(1)}×`,
              ]
            : [];
        })
      : [];
    return {
      data: { reps: REPS, figures },
      tables: [
        {
          title:
            'Start-up on Node 20 and Node 24, module compile cache off and warm, beside `sonobuoy results`',
          columns: ['node', 'command', 'wall (median)', 'min', 'above `node -e 0`'],
          rows: figures.map((f) => [
            f.node,
            f.variant,
            ms(median(f)),
            ms(stats(f.wallMs).min),
            f.variant === 'node -e 0' || f.node === GO ? '–' : ms(median(f) - floor(f.node)),
          ]),
          notes: [
            `Median and minimum of ${REPS} runs, the commands interleaved. "no cache": ` +
              'NODE_DISABLE_COMPILE_CACHE=1; "warm cache": bin/fathom.js turns on ' +
              '`module.enableCompileCache()` (Node ≥ 22.1) in the OS cache dir, here a fresh one filled by one run first. ' +
              'Node 20 has no compile cache: its two rows of a command differ by noise only. ' +
              "`fathom results` reads Sonobuoy's testResultsOutput.tar.gz (`-p e2e`). " +
              '`sonobuoy results` (a Go binary: no Node, no floor) reads the same with the same flags.',
            ...ratios,
            ...notes,
          ],
        },
      ],
    };
  },
};
