/**
 * `npm run bench [-- --only name[,name]] [-- --list]`: runs fathom's benchmarks, prints
 * markdown tables and writes bench/out/results.json.
 *
 * The benches are compiled with tsc (bench/tsconfig.json) and run by plain `node`, not tsx: a
 * loader adds ~35 MB of RSS and its own start-up to every process it runs, and several figures
 * here are peak RSS and start-up times of child processes. The compiled code is the same tsc
 * output as dist/; the CLI itself is always run from dist/ through bin/fathom.js.
 */
import { execFileSync } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus, freemem, platform, release, totalmem } from 'node:os';
import { join } from 'node:path';
import { checksBench } from './benches/checks.js';
import { ingestBench } from './benches/ingest.js';
import { parsersBench } from './benches/parsers.js';
import { kubernetesBench } from './benches/kubernetes.js';
import { processBench } from './benches/process.js';
import { resultsCliBench } from './benches/results-cli.js';
import { runNoopBench } from './benches/run-noop.js';
import { sessionsBench } from './benches/sessions.js';
import { snapshotBench } from './benches/snapshot.js';
import { startupBench } from './benches/startup.js';
import { statusBench } from './benches/status.js';
import { REPO_ROOT, RSS_METHOD } from './lib/measure.js';
import { renderTable, type Bench, type BenchResult } from './lib/report.js';

const BENCHES: readonly Bench[] = [
  runNoopBench,
  ingestBench,
  processBench,
  resultsCliBench,
  parsersBench,
  statusBench,
  kubernetesBench,
  checksBench,
  sessionsBench,
  startupBench,
  snapshotBench,
];

function usage(): string {
  return [
    'usage: npm run bench [-- --only NAME[,NAME...]] [-- --list]',
    '',
    ...BENCHES.map((b) => `  ${b.name.padEnd(8)} ${b.description}`),
  ].join('\n');
}

function parseArgs(argv: readonly string[]): { only?: Set<string>; list: boolean } {
  let only: Set<string> | undefined;
  let list = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--list' || a === '-h' || a === '--help') list = true;
    else if (a === '--only' || a.startsWith('--only=')) {
      const value = a.startsWith('--only=') ? a.slice(7) : argv[++i];
      if (!value) throw new Error('--only needs a bench name');
      only ??= new Set();
      for (const n of value.split(',')) only.add(n.trim());
    } else throw new Error(`unknown argument ${a}\n${usage()}`);
  }
  for (const n of only ?? []) {
    if (!BENCHES.some((b) => b.name === n)) throw new Error(`no bench named ${n}\n${usage()}`);
  }
  return { ...(only ? { only } : {}), list };
}

function gitCommit(): string | undefined {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], {
      cwd: REPO_ROOT,
      stdio: ['ignore', 'pipe', 'ignore'],
    })
      .toString()
      .trim();
  } catch {
    return undefined;
  }
}

interface Machine {
  cpus: number;
  cpuModel: string;
  node: string;
  platform: string;
  memoryGiB: number;
  freeMemoryGiB: number;
  commit: string | undefined;
  rssMethod: string;
  date: string;
}

function machine(): Machine {
  const list = cpus();
  return {
    cpus: list.length,
    cpuModel: list[0]?.model.trim() ?? 'unknown',
    node: process.version,
    platform: `${platform()} ${release()}`,
    memoryGiB: Math.round((totalmem() / 1024 ** 3) * 10) / 10,
    freeMemoryGiB: Math.round((freemem() / 1024 ** 3) * 10) / 10,
    commit: gitCommit(),
    rssMethod: RSS_METHOD,
    date: new Date().toISOString(),
  };
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  if (args.list) {
    console.log(usage());
    return;
  }
  const selected = BENCHES.filter((b) => !args.only || args.only.has(b.name));
  const host = machine();
  const heading =
    `Machine: ${host.cpus} × ${host.cpuModel}, ${host.memoryGiB} GiB RAM, ${host.platform}, ` +
    `Node ${host.node}${host.commit ? `, fathom ${host.commit}` : ''}`;
  console.log(heading);
  const started = performance.now();
  const results: Record<string, BenchResult & { wallMs: number }> = {};
  const failures: string[] = [];
  for (const bench of selected) {
    const t = performance.now();
    console.log(`\n== ${bench.name}: ${bench.description}`);
    try {
      const r = await bench.run((line) => console.log(`   ${line}`));
      results[bench.name] = { ...r, wallMs: performance.now() - t };
      if (r.skipped) console.log(`   skipped: ${r.skipped}`);
    } catch (err) {
      const message = err instanceof Error ? (err.stack ?? err.message) : String(err);
      failures.push(`${bench.name}: ${message}`);
      console.error(`   FAILED: ${message}`);
    }
  }
  const totalMs = performance.now() - started;

  console.log(`\n${heading}\n`);
  for (const [name, r] of Object.entries(results)) {
    if (r.skipped) console.log(`*${name}: skipped: ${r.skipped}*\n`);
    for (const t of r.tables) console.log(`${renderTable(t)}\n`);
  }
  console.log(`Benches took ${(totalMs / 1000).toFixed(0)} s in all.`);

  const outDir = join(REPO_ROOT, 'bench', 'out');
  await mkdir(outDir, { recursive: true });
  const file = join(outDir, 'results.json');
  await writeFile(
    file,
    `${JSON.stringify({ machine: host, totalMs, benches: results, failures }, null, 2)}\n`,
  );
  console.log(`Results written to ${file}`);
  if (failures.length > 0) {
    console.error(`\n${failures.length} bench(es) failed:\n${failures.join('\n')}`);
    process.exitCode = 1;
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : String(err));
  process.exitCode = 2;
});
