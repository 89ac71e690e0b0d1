/**
 * Generated inputs for the benches: a large JUnit file, a `go test -json` stream, deterministic
 * and ASCII (so characters are bytes), written in chunks with backpressure.
 */
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';

/** Streams the strings `parts` yields to `file`; returns the bytes written. */
export async function writeParts(file: string, parts: Iterable<string>): Promise<number> {
  const out = createWriteStream(file);
  let size = 0;
  let batch: string[] = [];
  let batched = 0;
  const flush = async (): Promise<void> => {
    if (batched === 0) return;
    const ok = out.write(batch.join(''));
    batch = [];
    batched = 0;
    if (!ok) await once(out, 'drain');
  };
  for (const p of parts) {
    batch.push(p);
    batched += p.length;
    size += p.length;
    if (batched >= 1 << 20) await flush();
  }
  await flush();
  out.end();
  await once(out, 'close');
  return size;
}

const CASES_PER_SUITE = 100;

function junitCase(i: number): string {
  const name = `[sig-bench] Feature ${i % 97} should behave in case ${i} [Conformance]`;
  const open = `    <testcase name="${name}" classname="Kubernetes e2e suite" time="${((i % 500) / 100).toFixed(2)}">`;
  if (i % 10 === 3)
    return `${open}<skipped message="skipped: not selected"></skipped></testcase>\n`;
  if (i % 50 === 7) {
    const trace = Array.from(
      { length: 12 },
      (_, k) => `  /go/src/k8s.io/test/e2e/bench/case.go:${100 + k}`,
    ).join('\n');
    return (
      `${open}<failure message="expected &lt;bool&gt;: false to be true" type="Failure">` +
      `case ${i} failed &amp; left a stack:\n${trace}\n</failure>` +
      `<system-out>STEP: creating a namespace\nSTEP: waiting for pod &quot;bench-${i}&quot; to be ready\n${'log line of the failed case\n'.repeat(40)}</system-out></testcase>\n`
    );
  }
  return `${open}</testcase>\n`;
}

function suiteCases(suite: number, cases: number): string {
  const from = suite * CASES_PER_SUITE;
  const to = Math.min(cases, from + CASES_PER_SUITE);
  let s = '';
  for (let i = from; i < to; i++) s += junitCase(i);
  return s;
}

/** A 120-byte log line: the suite-level output a JUnit reporter may attach. */
function logLine(n: number): string {
  const id = String(n).padStart(9, '0');
  return `I1125 02:10:25.${id.slice(3)}  1 pods.go:123] pod &quot;bench-${id}&quot; in &lt;e2e&gt; is Running &amp; Ready\n`;
}

/**
 * A JUnit document of about `targetBytes` with `cases` test cases in suites of 100 (10% skipped,
 * 2% failed with a message, a stack and a captured log). The rest of the size is suite-level
 * `<system-out>` log, which the item tree does not keep (as in Sonobuoy): bigger files of this
 * shape cost parse time but not memory, so the peak RSS shows whether the parser streams.
 */
export function* junitParts(targetBytes: number, cases: number): Generator<string> {
  const suites = Math.ceil(cases / CASES_PER_SUITE);
  const head = `<?xml version="1.0" encoding="UTF-8"?>\n<testsuites tests="${cases}">\n`;
  const tail = '</testsuites>\n';
  const suiteOpen = (s: number): string =>
    `  <testsuite name="Kubernetes e2e suite part ${String(s).padStart(4, '0')}" tests="${CASES_PER_SUITE}">\n`;
  const suiteClose = '    <system-out>';
  const suiteEnd = '</system-out>\n  </testsuite>\n';
  let fixed = head.length + tail.length;
  for (let s = 0; s < suites; s++) {
    fixed +=
      suiteOpen(s).length + suiteCases(s, cases).length + suiteClose.length + suiteEnd.length;
  }
  const lineBytes = logLine(0).length;
  const linesPerSuite = Math.max(0, Math.floor((targetBytes - fixed) / suites / lineBytes));
  let n = 0;
  yield head;
  for (let s = 0; s < suites; s++) {
    yield suiteOpen(s);
    yield suiteCases(s, cases);
    yield suiteClose;
    for (let l = 0; l < linesPerSuite; l++) yield logLine(n++);
    yield suiteEnd;
  }
  yield tail;
}

/**
 * A `go test -json` stream of `tests` tests over 20 packages: for each, a run event, three
 * output events and its verdict (every 50th fails, every 20th is skipped), then one package
 * verdict per package. About 780 bytes per test.
 */
export function* gojsonParts(tests: number): Generator<string> {
  const packages = 20;
  const stamp = (i: number): string =>
    `2026-01-01T00:${String(Math.floor(i / 60000) % 60).padStart(2, '0')}:${String(Math.floor(i / 1000) % 60).padStart(2, '0')}.${String(i % 1000).padStart(3, '0')}123Z`;
  for (let i = 0; i < tests; i++) {
    const pkg = `example.com/bench/pkg${String(i % packages).padStart(2, '0')}`;
    const test = i % 7 === 0 ? `TestThing${i}/subtest_${i % 13}` : `TestThing${i}`;
    const t = stamp(i);
    const verdict = i % 50 === 1 ? 'fail' : i % 20 === 2 ? 'skip' : 'pass';
    const ev = (action: string, extra = ''): string =>
      `{"Time":"${t}","Action":"${action}","Package":"${pkg}","Test":"${test}"${extra}}\n`;
    yield (
      ev('run') +
      ev('output', `,"Output":"=== RUN   ${test}\\n"`) +
      ev(
        'output',
        `,"Output":"    thing_test.go:42: checking case ${i}: got \\"value-${i}\\", want a value\\n"`,
      ) +
      ev('output', `,"Output":"--- ${verdict.toUpperCase()}: ${test} (0.01s)\\n"`) +
      ev(verdict, ',"Elapsed":0.01')
    );
  }
  for (let p = 0; p < packages; p++) {
    yield `{"Time":"2026-01-01T01:00:00Z","Action":"fail","Package":"example.com/bench/pkg${String(p).padStart(2, '0')}","Elapsed":12.5}\n`;
  }
}
