// Prints the closing line CI reads, from vitest's JSON report; exits non-zero when anything failed.
import { readFileSync } from 'node:fs';
import process from 'node:process';

const [file, rcText] = process.argv.slice(2);
let report;
try {
  report = JSON.parse(readFileSync(file, 'utf8'));
} catch {
  process.stdout.write('0 passed, 1 failed\n');
  process.exit(1);
}
const suites = report.testResults ?? [];
// A file that fails to load has no failed test but must still count as a failure.
const brokenFiles = suites.filter(
  (s) => s.status === 'failed' && !(s.assertionResults ?? []).some((a) => a.status === 'failed'),
).length;
const passed = report.numPassedTests ?? 0;
const skipped = (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
let failed = (report.numFailedTests ?? 0) + brokenFiles;
if (Number(rcText ?? 0) !== 0 && failed === 0) failed = 1; // the runner failed outside any test
process.stdout.write(
  `${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}\n`,
);
process.exit(failed > 0 ? 1 : 0);
