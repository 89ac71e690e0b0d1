/**
 * Issue 3: fathom's post-processor on a generated JUnit file (50 MB and 200 MB) and a
 * `go test -json` stream (25,000 and 100,000 tests): time and peak RSS, each in a fresh child
 * process, so that the RSS of the small and the large input can be compared.
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ProcessChildMessage } from '../children/process.js';
import { gojsonParts, junitParts, writeParts } from '../lib/gen.js';
import { forkChild, stats } from '../lib/measure.js';
import { bytes, count, mbps, mib, ms, type Bench, type BenchResult } from '../lib/report.js';

const REPS = 3;
const MiB = 1024 ** 2;
const JUNIT_CASES = 20_000;
const CHILD = new URL('../children/process.js', import.meta.url);

type Done = Extract<ProcessChildMessage, { type: 'done' }>;

interface Case {
  label: string;
  format: 'junit' | 'gojson';
  file: string;
  parts: () => Iterable<string>;
  tests: number;
}

const cases: Case[] = [
  {
    label: 'JUnit, 50 MiB',
    format: 'junit',
    file: 'junit_01.xml',
    parts: () => junitParts(50 * MiB, JUNIT_CASES),
    tests: JUNIT_CASES,
  },
  {
    label: 'JUnit, 200 MiB',
    format: 'junit',
    file: 'junit_01.xml',
    parts: () => junitParts(200 * MiB, JUNIT_CASES),
    tests: JUNIT_CASES,
  },
  {
    label: 'go test -json, 25,000 tests',
    format: 'gojson',
    file: 'go-test.json',
    parts: () => gojsonParts(25_000),
    tests: 25_000,
  },
  {
    label: 'go test -json, 100,000 tests',
    format: 'gojson',
    file: 'go-test.json',
    parts: () => gojsonParts(100_000),
    tests: 100_000,
  },
];

async function processOnce(root: string, plugin: string, format: string): Promise<Done> {
  // --expose-gc only lets the child measure its retained heap at the end; it changes no GC policy.
  const child = forkChild<ProcessChildMessage>(CHILD, [root, plugin, format], ['--expose-gc']);
  const done = await child.next<Done>('done');
  await child.exited();
  return done;
}

export const processBench: Bench = {
  name: 'process',
  description:
    'post-processing a 50/200 MiB JUnit file and a 25,000/100,000-test go test -json stream',
  async run(log): Promise<BenchResult> {
    const dir = await mkdtemp(join(tmpdir(), 'fathom-bench-process-'));
    try {
      const rows: {
        label: string;
        format: string;
        fileBytes: number;
        tests: number;
        leaves: number;
        yamlBytes: number;
        processMs: ReturnType<typeof stats>;
        writeMs: ReturnType<typeof stats>;
        startRssKiB: number;
        maxRssKiB: number;
        retainedHeapKiB: number;
      }[] = [];
      for (const c of cases) {
        const plugin = `bench-${c.format}`;
        const results = join(dir, 'plugins', plugin, 'results', 'global');
        await mkdir(results, { recursive: true });
        const t = performance.now();
        const fileBytes = await writeParts(join(results, c.file), c.parts());
        log(`${c.label}: generated ${bytes(fileBytes)} in ${ms(performance.now() - t)}`);
        const runs: Done[] = [];
        for (let i = 0; i < REPS; i++) runs.push(await processOnce(dir, plugin, c.format));
        const last = runs.at(-1)!;
        if (last.leaves !== c.tests)
          throw new Error(`${c.label}: ${last.leaves} leaves, expected ${c.tests}`);
        const row = {
          label: c.label,
          format: c.format,
          fileBytes,
          tests: c.tests,
          leaves: last.leaves,
          yamlBytes: last.yamlBytes,
          processMs: stats(runs.map((r) => r.processMs)),
          writeMs: stats(runs.map((r) => r.writeMs)),
          startRssKiB: Math.max(...runs.map((r) => r.startRssKiB)),
          maxRssKiB: Math.max(...runs.map((r) => r.maxRssKiB)),
          retainedHeapKiB: Math.max(...runs.map((r) => r.retainedHeapKiB ?? NaN)),
        };
        rows.push(row);
        log(
          `${c.label}: parse ${ms(row.processMs.median)} (${mbps(fileBytes, row.processMs.median)}), ` +
            `write ${ms(row.writeMs.median)}, peak RSS ${mib(row.maxRssKiB)}`,
        );
        await rm(join(dir, 'plugins', plugin), { recursive: true, force: true });
      }
      return {
        data: { reps: REPS, cases: rows },
        tables: [
          {
            title: 'Post-processing (fathom, each run in a fresh process)',
            columns: [
              'input',
              'file size',
              'tests',
              'parse (median)',
              'parse rate',
              'write sonobuoy_results.yaml',
              'yaml size',
              'peak RSS (process at start)',
              'heap kept after GC',
            ],
            rows: rows.map((r) => [
              r.label,
              bytes(r.fileBytes),
              count(r.tests),
              ms(r.processMs.median),
              mbps(r.fileBytes, r.processMs.median),
              ms(r.writeMs.median),
              bytes(r.yamlBytes),
              `${mib(r.maxRssKiB)} (${mib(r.startRssKiB)})`,
              mib(r.retainedHeapKiB),
            ]),
            notes: [
              `Median of ${REPS} runs of \`postProcessPlugin\` + \`writePluginResults\` on a Job plugin; peak RSS (getrusage maxRSS) is the highest of the runs; ` +
                '"heap kept" is the V8 heap after a forced full GC at the end, with the result tree still referenced. ' +
                `The JUnit files hold ${count(JUNIT_CASES)} test cases (10% skipped, 2% failed with message, stack and log) at both sizes; ` +
                'the rest is suite-level `<system-out>` log, which the result tree does not keep, so memory shows whether the parser streams. ' +
                'The go test -json streams grow by test count (≈780 bytes per test, most of it output events), and their result trees grow with them.',
            ],
          },
        ],
      };
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  },
};
