/**
 * Issue 3, side by side: `sonobuoy results <tarball>` (Sonobuoy v0.57.5, the Go original) against
 * `fathom results <tarball>` on the same tarballs, in one run, runs interleaved so that machine
 * noise falls on both alike. Real Sonobuoy tarballs plus a large generated one.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { promisify } from 'node:util';
import {
  FATHOM_BIN,
  REPO_ROOT,
  RSS_METHOD,
  runTimed,
  runWithPeakRss,
  stats,
  type Stats,
} from '../lib/measure.js';
import { bytes, count, mib, ms, type Bench, type BenchResult, type Cell } from '../lib/report.js';
import { bigFilesTarball, largeSonobuoyTarball } from '../lib/tarball.js';

const LARGE_TESTS = 100_000;
const SMALL_REPS = 10;
const LARGE_REPS = 5;
/** Issue 8, item 6: `-m detailed` on four 250 MiB files once took 1.6 GB. */
const BIG_FILES = 4;
const BIG_FILE_BYTES = 250 * 1024 * 1024;
const BIG_FILES_REPS = 2;

const SHARED_TARBALL = join(
  REPO_ROOT,
  '..',
  'shared',
  'conformance',
  'sonobuoy',
  'cmd',
  'sonobuoy',
  'app',
  'testdata',
  'testResultsOutput.tar.gz',
);
const INTEGRATION_DIR = join(REPO_ROOT, 'test', 'integration', 'testdata');

interface Target {
  label: string;
  file: string;
  /** Extra arguments for both tools (the shared fixture has no meta/info.json: name a plugin). */
  args: string[];
  reps: number;
  /** Instead of `results <file> <args>`: the whole argument list per tool (the start-up row). */
  argv?: Record<ToolName, string[]>;
  /** Output too large to hold for comparing (the large files row). */
  noCompare?: boolean;
}

type ToolName = 'sonobuoy' | 'fathom';

interface ToolFigures {
  wall: Stats;
  maxRssKiB: number;
  code: number | null;
}

/** The Sonobuoy binary test/peers/build.sh builds (it only prints the path once built). */
async function sonobuoyBinary(): Promise<{ path?: string; problem?: string }> {
  try {
    const { stdout } = await promisify(execFile)(
      'bash',
      [join(REPO_ROOT, 'test', 'peers', 'build.sh')],
      {
        cwd: REPO_ROOT,
        timeout: 600_000,
      },
    );
    const path = stdout.trim().split('\n').at(-1) ?? '';
    if (existsSync(path)) return { path };
    return { problem: `test/peers/build.sh printed no binary (${path})` };
  } catch (err) {
    return {
      problem: `Sonobuoy v0.57.5 could not be built: ${(err as Error).message.split('\n')[0]}`,
    };
  }
}

/** Whether this fathom has a `results` command (it is being written alongside these benches). */
async function fathomHasResults(): Promise<boolean> {
  const r = await runTimed(process.execPath, [FATHOM_BIN, 'results', '--help'], {
    captureStdout: true,
  });
  // An unknown command with --help prints the top-level help (exit 0): look for its own usage.
  return r.code === 0 && /^Usage: fathom results\b/m.test(r.stdout);
}

async function targets(
  dir: string,
  log: (line: string) => void,
): Promise<{
  list: Target[];
  notes: string[];
  generated?: Awaited<ReturnType<typeof largeSonobuoyTarball>>;
}> {
  const notes: string[] = [];
  // The floor under every row: each tool starting and printing its version.
  const list: Target[] = [
    {
      label: 'start-up only (`sonobuoy version --short`, `fathom --version`)',
      file: '',
      args: [],
      reps: SMALL_REPS,
      argv: { sonobuoy: ['version', '--short'], fathom: [FATHOM_BIN, '--version'] },
    },
  ];
  if (existsSync(SHARED_TARBALL)) {
    list.push({
      label: 'Sonobuoy testdata testResultsOutput.tar.gz (`-p e2e`)',
      file: SHARED_TARBALL,
      args: ['-p', 'e2e'],
      reps: SMALL_REPS,
    });
  } else {
    notes.push(`Skipped Sonobuoy's testResultsOutput.tar.gz: ${SHARED_TARBALL} is absent.`);
  }
  const integration = existsSync(INTEGRATION_DIR)
    ? (await readdir(INTEGRATION_DIR)).filter((f) => /^results-.*\.tar\.gz$/.test(f)).sort()
    : [];
  for (const f of integration) {
    list.push({
      label: `test/integration/testdata/${f}`,
      file: join(INTEGRATION_DIR, f),
      args: [],
      reps: SMALL_REPS,
    });
  }
  if (integration.length === 0)
    notes.push('No test/integration/testdata/results-*.tar.gz exist yet: none timed.');
  const t = performance.now();
  const generated = await largeSonobuoyTarball(dir, LARGE_TESTS);
  log(
    `generated ${basename(generated.file)}: ${bytes(generated.tarballBytes)} (sonobuoy_results.yaml ${bytes(generated.yamlBytes)}, ` +
      `junit ${bytes(generated.junitBytes)}) in ${ms(performance.now() - t)}`,
  );
  list.push({
    label: `generated, ${count(LARGE_TESTS)} tests (${bytes(generated.tarballBytes)}; yaml ${bytes(generated.yamlBytes)})`,
    file: generated.file,
    args: [],
    reps: LARGE_REPS,
  });
  const big = await bigFilesTarball(dir, BIG_FILES, BIG_FILE_BYTES);
  list.push({
    label: `\`-m detailed\`, ${BIG_FILES} files of ${bytes(BIG_FILE_BYTES)} (${bytes(big.tarballBytes)})`,
    file: big.file,
    args: ['-m', 'detailed'],
    reps: BIG_FILES_REPS,
    noCompare: true,
  });
  return { list, notes, generated };
}

export const resultsCliBench: Bench = {
  name: 'results',
  description: '`sonobuoy results` vs `fathom results` on the same tarballs (time, peak RSS)',
  async run(log): Promise<BenchResult> {
    const dir = await mkdtemp(join(tmpdir(), 'fathom-bench-results-'));
    try {
      const sonobuoy = await sonobuoyBinary();
      const fathomReady = await fathomHasResults();
      const notes: string[] = [];
      if (!fathomReady) {
        notes.push(
          '**fathom results: skipped** — `fathom results` does not exist in this build yet (src/cli/commands/results.ts); only Sonobuoy was timed.',
        );
        log('fathom results is not available in this build: timing Sonobuoy only');
      }
      if (!sonobuoy.path) {
        notes.push(`**sonobuoy results: skipped** — ${sonobuoy.problem}`);
        log(`sonobuoy: ${sonobuoy.problem}`);
      }
      if (!fathomReady && !sonobuoy.path) {
        return {
          data: { fathomResults: false, sonobuoy: sonobuoy.problem },
          tables: [],
          skipped: notes.join(' '),
        };
      }
      const found = await targets(dir, log);
      notes.push(...found.notes);

      // fathom without `results` still gets its start-up row, for reference.
      const all: { name: ToolName; cmd: string; pre: string[]; hasResults: boolean }[] = [
        {
          name: 'fathom',
          cmd: process.execPath,
          pre: [FATHOM_BIN, 'results'],
          hasResults: fathomReady,
        },
      ];
      if (sonobuoy.path)
        all.unshift({ name: 'sonobuoy', cmd: sonobuoy.path, pre: ['results'], hasResults: true });
      const argv = (tool: (typeof all)[number], target: Target): string[] =>
        target.argv?.[tool.name] ?? [...tool.pre, target.file, ...target.args];

      const rows: {
        target: Target;
        figures: Partial<Record<ToolName, ToolFigures>>;
        sameOutput?: boolean;
      }[] = [];
      for (const target of found.list) {
        const tools = all.filter((t) => t.hasResults || target.argv);
        const walls: Record<string, number[]> = {};
        const codes: Record<string, number | null> = {};
        // Warm-up (page cache), and the outputs for comparison.
        const outputs: Record<string, string> = {};
        for (const tool of tools) {
          const r = await runTimed(tool.cmd, argv(tool, target), {
            captureStdout: !target.noCompare,
          });
          outputs[tool.name] = r.stdout;
          codes[tool.name] = r.code;
          if (r.code !== 0)
            log(
              `${tool.name} ${argv(tool, target).slice(-2).join(' ')} exited ${r.code}: ${r.stderr.trim().slice(0, 300)}`,
            );
        }
        for (let i = 0; i < target.reps; i++) {
          for (const tool of tools) {
            const r = await runTimed(tool.cmd, argv(tool, target));
            (walls[tool.name] ??= []).push(r.wallMs);
          }
        }
        const figures: Partial<Record<ToolName, ToolFigures>> = {};
        for (const tool of tools) {
          const rss = await runWithPeakRss(tool.cmd, argv(tool, target));
          figures[tool.name] = {
            wall: stats(walls[tool.name]!),
            maxRssKiB: rss.maxRssKiB,
            code: codes[tool.name]!,
          };
        }
        const row = {
          target,
          figures,
          ...(tools.length === 2 && !target.argv && !target.noCompare
            ? { sameOutput: outputs.sonobuoy === outputs.fathom }
            : {}),
        };
        rows.push(row);
        log(
          `${target.label}: ` +
            tools
              .map(
                (t) =>
                  `${t.name} ${ms(figures[t.name]!.wall.median)} / ${mib(figures[t.name]!.maxRssKiB)}`,
              )
              .join(', '),
        );
      }

      const cell = (f: ToolFigures | undefined, what: 'wall' | 'rss'): Cell =>
        !f
          ? 'skipped'
          : f.code !== 0
            ? `exit ${f.code}`
            : what === 'wall'
              ? ms(f.wall.median)
              : mib(f.maxRssKiB);
      const ratio = (r: (typeof rows)[number]): string => {
        const s = r.figures.sonobuoy;
        const f = r.figures.fathom;
        return s && f && s.code === 0 && f.code === 0
          ? `${(f.wall.median / s.wall.median).toFixed(1)}×`
          : '–';
      };
      // The runtime's own floor: what no JavaScript CLI on this Node can go under.
      const floorWalls: number[] = [];
      for (let i = 0; i < SMALL_REPS; i++)
        floorWalls.push((await runTimed(process.execPath, ['-e', '0'])).wallMs);
      const floorRss = await runWithPeakRss(process.execPath, ['-e', '0']);
      notes.push(
        `Node ${process.version} itself (\`node -e 0\`) takes ${ms(stats(floorWalls).median)} and ${mib(floorRss.maxRssKiB)} here: the floor under every fathom figure.`,
      );
      notes.push(
        `Default (report) mode unless the row says otherwise, stdout to /dev/null; median of ${SMALL_REPS} runs (${LARGE_REPS} for the generated tarball, ${BIG_FILES_REPS} for the large files), the two tools interleaved, after one warm-up each. ` +
          `Ratio = fathom time / Sonobuoy time. Peak RSS from one extra run each (${RSS_METHOD}).`,
      );
      return {
        data: {
          fathomResults: fathomReady,
          sonobuoyBinary: sonobuoy.path ?? null,
          generated: found.generated,
          rows: rows.map((r) => ({
            label: r.target.label,
            file: r.target.file,
            args: r.target.args,
            ...r.figures,
            sameOutput: r.sameOutput,
          })),
        },
        tables: [
          {
            title: '`sonobuoy results` (Go, v0.57.5) vs `fathom results`',
            columns: [
              'tarball',
              'sonobuoy',
              'fathom',
              'ratio',
              'sonobuoy peak RSS',
              'fathom peak RSS',
            ],
            rows: rows.map((r) => [
              r.target.label,
              cell(r.figures.sonobuoy, 'wall'),
              cell(r.figures.fathom, 'wall'),
              ratio(r),
              cell(r.figures.sonobuoy, 'rss'),
              cell(r.figures.fathom, 'rss'),
            ]),
            notes,
          },
        ],
      };
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  },
};
