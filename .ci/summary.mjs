// Prints the closing line CI reads, from vitest's JSON report; exits non-zero when anything failed.
// Under CI (`CI` set) a skipped test is a failure too: everything the suite needs is installed
// there, so a skip means a peer, browser or fixture went missing. `setupFailed` counts the steps
// of .ci/run that failed before the suite (a peer build, the Chromium install).
import { readFileSync } from 'node:fs';
import process from 'node:process';

const [file, rcText, setupText] = process.argv.slice(2);
const setupFailed = Number(setupText ?? 0) || 0;
const ci = !['', '0', 'false'].includes((process.env.CI ?? '').trim().toLowerCase());
let report;
try {
  report = JSON.parse(readFileSync(file, 'utf8'));
} catch {
  process.stdout.write(`0 passed, ${1 + setupFailed} failed\n`);
  process.exit(1);
}
const suites = report.testResults ?? [];
// A file that fails to load has no failed test but must still count as a failure.
const brokenFiles = suites.filter(
  (s) => s.status === 'failed' && !(s.assertionResults ?? []).some((a) => a.status === 'failed'),
).length;
const passed = report.numPassedTests ?? 0;
const skipped = (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
let failed = (report.numFailedTests ?? 0) + brokenFiles + setupFailed;
if (Number(rcText ?? 0) !== 0 && failed === 0) failed = 1; // the runner failed outside any test
if (ci && skipped > 0) {
  const names = suites.flatMap((s) =>
    (s.assertionResults ?? [])
      .filter((a) => ['pending', 'skipped', 'todo'].includes(a.status))
      .map((a) => `${s.name}: ${a.fullName ?? a.title}`),
  );
  process.stdout.write(`skipped under CI, counted as failed (${skipped}):\n`);
  for (const n of names.slice(0, 50)) process.stdout.write(`  ${n}\n`);
  if (names.length > 50) process.stdout.write(`  … and ${names.length - 50} more\n`);
  failed += skipped;
}
process.stdout.write(
  `${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}\n`,
);
process.exit(failed > 0 ? 1 : 0);
