// Prints the closing line CI reads, from vitest's JSON reports (one per suite run: Node 20, then
// Node 24), summed; exits non-zero when anything failed.
//
//   node .ci/summary.mjs REPORT.json RC SETUP_FAILED [REPORT.json RC]...
//
// Under CI (`CI` set) a skipped test is a failure too: everything the suite needs is installed
// there, so a skip means a peer, browser or fixture went missing. `SETUP_FAILED` counts the steps
// of .ci/run that failed before the suites (a peer build, the Chromium install); RC is the exit
// code of the run that wrote the report before it. A report that is missing counts as one failure.
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import process from 'node:process';

const [firstFile, firstRc, setupText, ...more] = process.argv.slice(2);
const runs = [firstFile, firstRc, ...more];
const ci = !['', '0', 'false'].includes((process.env.CI ?? '').trim().toLowerCase());
let passed = 0;
let failed = Number(setupText ?? 0) || 0;
let skipped = 0;
const skippedNames = [];
const failedNames = [];

/**
 * A failure's message without its stack, its lines indented under the test's name: an
 * assertion's own message (a command's stdout and stderr) often says why on its later lines.
 */
function failure(message) {
  const text = message
    .split('\n')
    .filter((l) => !/^\s+at /.test(l))
    .join('\n')
    .trim();
  const cut = text.length > 2000 ? `${text.slice(0, 2000)} …` : text;
  return cut.replace(/\n/g, '\n      ');
}

for (let i = 0; i < runs.length; i += 2) {
  const file = runs[i];
  const rc = Number(runs[i + 1] ?? 0);
  let report;
  try {
    report = JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    process.stdout.write(`no test report at ${file}: counted as one failure\n`);
    failed += 1;
    continue;
  }
  const suites = report.testResults ?? [];
  // A file that fails to load has no failed test but must still count as a failure.
  const brokenFiles = suites.filter(
    (s) => s.status === 'failed' && !(s.assertionResults ?? []).some((a) => a.status === 'failed'),
  ).length;
  const runFailed = (report.numFailedTests ?? 0) + brokenFiles;
  passed += report.numPassedTests ?? 0;
  failed += runFailed;
  if (rc !== 0 && runFailed === 0) failed += 1; // the runner failed outside any test
  skipped += (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
  const prefix = i ? `${basename(file)}: ` : '';
  for (const s of suites) {
    if (s.status === 'failed' && !(s.assertionResults ?? []).some((a) => a.status === 'failed'))
      failedNames.push(
        `${prefix}${s.name}: ${failure(s.message || 'failed outside its tests (the file or a hook; see its output above)')}`,
      );
    for (const a of s.assertionResults ?? []) {
      const name = `${prefix}${s.name}: ${a.fullName ?? a.title}`;
      if (['pending', 'skipped', 'todo'].includes(a.status)) skippedNames.push(name);
      if (a.status === 'failed')
        failedNames.push(`${name}: ${failure(a.failureMessages?.[0] ?? '')}`);
    }
  }
}

// The tail of the log is what a reader sees first: name every failure just above the last line.
if (failedNames.length > 0) {
  process.stdout.write(`failed (${failedNames.length}):\n`);
  for (const n of failedNames.slice(0, 50)) process.stdout.write(`  ${n}\n`);
}

if (ci && skipped > 0) {
  process.stdout.write(`skipped under CI, counted as failed (${skipped}):\n`);
  for (const n of skippedNames.slice(0, 50)) process.stdout.write(`  ${n}\n`);
  if (skippedNames.length > 50) process.stdout.write(`  … and ${skippedNames.length - 50} more\n`);
  failed += skipped;
}
process.stdout.write(
  `${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}\n`,
);
process.exit(failed > 0 ? 1 : 0);
