/**
 * Issue 8 item 5: `fathom health -f` (the built CLI) on 10,000 and 100,000 objects, the table
 * next to `-o json`. The table was quadratic (cli-table3's layout); it must now cost about what
 * JSON costs. Each run's stdout is discarded; one extra table run is read back and must have a
 * line per object plus the heading.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FATHOM_BIN, RSS_METHOD, runTimed, runWithPeakRss, stats } from '../lib/measure.js';
import { count, mib, ms, type Table } from '../lib/report.js';

export const CLI_SIZES = [10_000, 100_000] as const;
const REPS = 3;
const FORMATS = ['table', 'json'] as const;
type Format = (typeof FORMATS)[number];

export interface HealthCliFigure {
  objects: number;
  format: Format;
  wallMs: number[];
  maxRssKiB: number;
  exitCode: number | null;
}

const args = (file: string, format: Format): string[] => [
  FATHOM_BIN,
  'health',
  '-f',
  file,
  '-o',
  format,
];

/** `fathom health -f FILE -o table|json` for each size; `lines` are JSON objects, one a line. */
export async function healthCliFigures(
  lines: readonly string[],
  log: (line: string) => void,
): Promise<{ figures: HealthCliFigure[]; table: Table }> {
  const dir = await mkdtemp(join(tmpdir(), 'fathom-bench-health-'));
  const figures: HealthCliFigure[] = [];
  try {
    for (const n of CLI_SIZES) {
      const file = join(dir, `objects-${n}.jsonl`);
      await writeFile(file, `${lines.slice(0, n).join('\n')}\n`);
      const check = await runTimed(process.execPath, args(file, 'table'), { captureStdout: true });
      const printed = check.stdout.split('\n').filter(Boolean).length;
      // Multi-line messages make more lines, never fewer.
      if (printed < n + 1) {
        throw new Error(
          `health -o table printed ${printed} lines for ${n} objects (exit ${check.code}): ${check.stderr.slice(0, 500)}`,
        );
      }
      const walls: Record<Format, number[]> = { table: [], json: [] };
      const codes: Record<Format, number | null> = { table: null, json: null };
      for (let r = 0; r < REPS; r++) {
        for (const format of FORMATS) {
          const run = await runTimed(process.execPath, args(file, format));
          walls[format].push(run.wallMs);
          codes[format] = run.code;
        }
      }
      for (const format of FORMATS) {
        const rss = await runWithPeakRss(process.execPath, args(file, format));
        figures.push({
          objects: n,
          format,
          wallMs: walls[format],
          maxRssKiB: rss.maxRssKiB,
          exitCode: codes[format],
        });
        log(
          `health ${count(n)} -o ${format}: ${ms(stats(walls[format]).median)}, ${mib(rss.maxRssKiB)}`,
        );
      }
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  const median = (f: HealthCliFigure): number => stats(f.wallMs).median;
  const json = (n: number): HealthCliFigure =>
    figures.find((f) => f.objects === n && f.format === 'json')!;
  return {
    figures,
    table: {
      title: '`fathom health -f`: the table next to `-o json`, same objects',
      columns: ['objects', 'output', 'wall (median)', 'vs json', 'peak RSS'],
      rows: figures.map((f) => [
        count(f.objects),
        f.format === 'table' ? 'table (default)' : '-o json',
        ms(median(f)),
        `${(median(f) / median(json(f.objects))).toFixed(2)}×`,
        mib(f.maxRssKiB),
      ]),
      notes: [
        `The built CLI (\`node bin/fathom.js health -f FILE\`) on the first ${CLI_SIZES.map(count).join(' and ')} objects of the corpus above, ` +
          `stdout discarded; median of ${REPS} runs, table and JSON interleaved; peak RSS from one extra run (${RSS_METHOD}). ` +
          'Exit code 1 is expected: not every object is Current. Before issue 8 the table took 6.9 s for 10,000 objects and did not finish 100,000 in 5 minutes.',
      ],
    },
  };
}
