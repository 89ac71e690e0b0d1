// Prints the closing line CI reads, from vitest's JSON report; exits non-zero when anything failed.
import { readFileSync } from 'node:fs';

const [file, rcText] = process.argv.slice(2);
let report;
try {
  report = JSON.parse(readFileSync(file, 'utf8'));
} catch {
  console.log('0 passed, 1 failed');
  process.exit(1);
}
const passed = report.numPassedTests ?? 0;
// A suite that fails to load counts as a failure even though it ran no test.
const failed = (report.numFailedTests ?? 0) + (report.numFailedTestSuites ?? 0 ? Math.max(0, (report.numFailedTestSuites ?? 0) - countSuitesWithFailedTests(report)) : 0);
const skipped = (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
const rc = Number(rcText ?? 0);
const extraFailure = rc !== 0 && failed === 0 ? 1 : 0;
console.log(`${passed} passed, ${failed + extraFailure} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(failed + extraFailure > 0 ? 1 : 0);

function countSuitesWithFailedTests(r) {
  return (r.testResults ?? []).filter((s) => (s.assertionResults ?? []).some((a) => a.status === 'failed')).length;
}
