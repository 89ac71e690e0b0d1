/**
 * `fathom results` as users run it: the built CLI on Sonobuoy's real tarballs and on a tarball
 * from a fathom run, and byte-for-byte against `sonobuoy results` v0.57.5 where it is built.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { XMLValidator } from 'fast-xml-parser';
import * as tar from 'tar';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { errorOrder, sonobuoyBinary, sonobuoyUnavailableReason } from '../peers/sonobuoy.js';
import { fathom, repoRoot, tempDir, type CliResult } from '../support/cli.js';
import { available } from '../support/required.js';

const shared = join(repoRoot, '../shared/conformance/sonobuoy');
const present = available(existsSync(shared), `Sonobuoy's results tarballs: ${shared} is absent`);
const OUTPUT = join(shared, 'cmd/sonobuoy/app/testdata/testResultsOutput.tar.gz');
const FAILURES = join(shared, 'test/integration/testdata/results-4-e2e-failures.tar.gz');
const QUICK = join(shared, 'test/integration/testdata/results-quick-no-failures.tar.gz');
const MISSING = join(shared, 'test/integration/testdata/results-missing-e2e.tar.gz');

const junitPlugin = `
sonobuoy-config: {driver: Job, plugin-name: fx-junit, result-format: junit}
spec:
  name: plugin
  image: busybox:1.36
  command: [sh, -c]
  args:
    - |
      cat > "$RESULTS_DIR/junit.xml" <<'XML'
      <testsuite name="suite"><testcase name="passes"/><testcase name="[It] breaks"><failure message="boom">stack</failure><system-out>out &amp; about</system-out></testcase><testcase name="&lt;script&gt;alert(1)&lt;/script&gt;"><failure>x</failure></testcase><testcase name="later"><skipped/></testcase></testsuite>
      XML
      echo "$RESULTS_DIR/junit.xml" > "$RESULTS_DIR/done"
`;
const nodesPlugin = `
sonobuoy-config: {driver: DaemonSet, plugin-name: fx-nodes, result-format: raw}
spec:
  name: plugin
  image: busybox:1.36
  command: [sh, -c, 'mkdir -p "$RESULTS_DIR/out" && echo "hi from $NODE_NAME" > "$RESULTS_DIR/out/hi.txt" && echo "$RESULTS_DIR/out" > "$RESULTS_DIR/done"']
`;

let fathomTarball = '';
let work = '';
beforeAll(async () => {
  work = await tempDir('results-cli');
  const home = join(work, 'home');
  const plugins = join(work, 'plugins');
  await mkdir(plugins, { recursive: true });
  await writeFile(join(plugins, 'a-nodes.yaml'), nodesPlugin);
  await writeFile(join(plugins, 'b-junit.yaml'), junitPlugin);
  const env = { FATHOM_HOME: home };
  const args = ['-n', 'results-cli'];
  const run = await fathom(['run', '--wait', '-p', plugins, '--nodes', '2', ...args], env);
  expect(run.stderr).toContain('started in namespace');
  const retrieved = await fathom(['retrieve', work, ...args], env);
  expect(retrieved.code).toBe(0);
  fathomTarball = retrieved.stdout.trim();
  await fathom(['delete', ...args], env);
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

const escapeRegExp = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** One-line error on stderr, and the exit code the error catalogue gives. */
function expectError(r: CliResult, code: number, message: RegExp): void {
  expect(r.code).toBe(code);
  expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
  expect(r.stderr).toMatch(message);
}

describe('fathom results on a tarball from a fathom run', () => {
  it('reports every plugin, failed tests last, and exits 0 although tests failed', async () => {
    const r = await fathom(['results', fathomTarball]);
    expect(r.code).toBe(0);
    // Then the run's cluster health from its snapshot: 2 nodes, the aggregator and 3 plugin pods
    // (the error counts of the pod logs that may follow depend on what the processes logged).
    expect(r.stdout).toMatch(
      new RegExp(
        `^${escapeRegExp(
          'Plugin: fx-nodes\nStatus: passed\nTotal: 2\nPassed: 2\nFailed: 0\nSkipped: 0\n\n' +
            'Plugin: fx-junit\nStatus: failed\nTotal: 4\nPassed: 1\nFailed: 2\nSkipped: 1\n\n' +
            'Failed tests:\nbreaks\n<script>alert(1)</script>\n\n' +
            'Run Details:\nAPI Server version: v1.36.3\nNode health: 2/2 (100%)\nPods health: 4/4 (100%)\n',
        )}(Errors detected in files:\n|$)`,
      ),
    );
  });

  it('prints each node file in detailed mode, with or without the prefix', async () => {
    const r = await fathom(['results', fathomTarball, '-m', 'detailed', '-p', 'fx-nodes']);
    expect(r.stdout).toBe(
      'fx-nodes|node-1|hi.txt hi from node-1\nfx-nodes|node-2|hi.txt hi from node-2\n',
    );
    const bare = await fathom([
      'results',
      fathomTarball,
      '-m',
      'detailed',
      '-p',
      'fx-nodes',
      '-n',
      'node-2',
      '-s',
    ]);
    expect(bare.stdout).toBe('hi from node-2\n');
  });

  it('reads the extracted directory the same as the tarball', async () => {
    const dir = join(work, 'extracted');
    await mkdir(dir);
    await tar.x({ file: fathomTarball, cwd: dir });
    for (const mode of ['report', 'detailed', 'dump']) {
      const a = await fathom(['results', fathomTarball, '-m', mode]);
      const b = await fathom(['results', dir, '-m', mode]);
      expect(b).toEqual(a);
    }
  });

  it('gives machine output of the same data', async () => {
    const r = await fathom(['results', fathomTarball, '-o', 'json']);
    const doc = JSON.parse(r.stdout) as { plugins: { plugin: string; failedTests: string[] }[] };
    expect(doc.plugins.map((p) => p.plugin)).toEqual(['fx-nodes', 'fx-junit']);
    expect(doc.plugins[1]!.failedTests).toEqual(['breaks', '<script>alert(1)</script>']);
    const dump = parse(
      (await fathom(['results', fathomTarball, '-m', 'dump', '-o', 'yaml'])).stdout,
    );
    expect(dump.plugins[1].results.items[0].name).toBe('junit.xml');
  });

  it('writes one merged JUnit document and one HTML page', async () => {
    const junit = await fathom(['results', fathomTarball, '--format', 'junit']);
    expect(junit.code).toBe(0);
    expect(XMLValidator.validate(junit.stdout)).toBe(true);
    expect(junit.stdout).toMatch(/<testsuites [^>]*tests="6" failures="2" errors="0" skipped="1">/);
    expect(junit.stdout).toContain('name="&lt;script&gt;alert(1)&lt;/script&gt;"');
    const html = await fathom(['results', fathomTarball, '--format', 'html']);
    expect(html.stdout).toMatch(/^<!doctype html>/);
    expect(html.stdout).not.toContain('<script>alert');
    expect(html.stdout).toContain('Failures (2)');
  });
});

describe.skipIf(!present)("fathom results on Sonobuoy's tarballs", () => {
  it('reports custom statuses after the built-in ones', async () => {
    const r = await fathom(['results', OUTPUT, '-p', 'custom-status']);
    expect(r.stdout).toMatch(
      /^Plugin: custom-status\nStatus: custom-overall-status\nTotal: 7\nPassed: 1\nFailed: 1\nSkipped: 1\ncomplete: 2\ncustom: 2\n\nFailed tests:\n\[sig-storage\] CSI Volumes/,
    );
  });

  it('lists the plugins of meta/info.json in order with their failures', async () => {
    const r = await fathom(['results', FAILURES]);
    expect(r.code).toBe(0);
    expect(r.stdout.split('\n\n').map((b) => b.split('\n')[0])).toEqual([
      'Plugin: e2e',
      'Failed tests:',
      'Plugin: systemd-logs',
    ]);
    expect(r.stdout).toContain('Total: 5771\nPassed: 21\nFailed: 4\nSkipped: 5746\n');
  });

  it('dumps the results file as it is, and readable unescapes it', async () => {
    const dir = join(work, 'output');
    await mkdir(dir);
    await tar.x({ file: OUTPUT, cwd: dir });
    const raw = await readFile(join(dir, 'plugins/e2e/sonobuoy_results.yaml'), 'utf8');
    expect((await fathom(['results', OUTPUT, '-p', 'e2e', '-m', 'dump'])).stdout).toBe(raw);
    const readable = await fathom(['results', QUICK, '-p', 'e2e', '-m', 'readable']);
    expect(readable.stdout).not.toContain('\\n');
  });

  it('writes HTML and JUnit for a 5771-test run', async () => {
    const junit = await fathom(['results', FAILURES, '--format', 'junit']);
    expect(XMLValidator.validate(junit.stdout)).toBe(true);
    expect(junit.stdout).toMatch(/<testsuites [^>]*tests="5772" failures="4"/);
    const html = await fathom(['results', FAILURES, '--format', 'html']);
    expect(html.stdout).toContain('<div class="label">Failed</div><div class="value">4</div>');
  });

  it.each([
    [[MISSING], /no plugins specified by either the --plugin flag or tarball metadata/],
    [
      [MISSING, '-p', 'e2e'],
      /failed to find file "plugins\/e2e\/sonobuoy_results.yaml" in archive/,
    ],
    [[OUTPUT, '-p', 'e2e', '-n', 'nowhere'], /node named "nowhere" not found/],
    [[OUTPUT, '-p', 'e2e', '-m', 'readable', '-o', 'json'], /--mode readable is text only/],
    [[OUTPUT, '-p', 'e2e', '--format', 'html', '-o', 'yaml'], /-o yaml: not with --format html/],
    [[OUTPUT, '-m', 'bogus'], /argument 'bogus' is invalid/],
  ])('%j exits 2 with one line', async (args, message) => {
    expectError(await fathom(['results', ...args]), 2, message);
  });
});

describe('bad input', () => {
  it('refuses a file that is not a tarball, and a hostile tarball', async () => {
    const text = join(work, 'notes.txt');
    await writeFile(text, 'just some notes\n'.repeat(100));
    expectError(await fathom(['results', text]), 2, /notes\.txt/);
    const src = join(work, 'hostile');
    await mkdir(join(src, 'meta'), { recursive: true });
    await writeFile(join(src, 'meta/info.json'), '{"plugins":["p"]}');
    await symlink('/etc/passwd', join(src, 'meta/link'));
    const hostile = join(work, 'hostile.tar.gz');
    await tar.c({ gzip: true, file: hostile, cwd: src }, ['meta']);
    expectError(await fathom(['results', hostile]), 2, /links are not allowed/);
  });

  it('prints the plugins it can read, then one line for those it cannot (exit 2)', async () => {
    const dir = join(work, 'partial');
    await mkdir(join(dir, 'meta'), { recursive: true });
    await writeFile(join(dir, 'meta/info.json'), '{"plugins":["good","missing","dir\\nfile"]}');
    await mkdir(join(dir, 'plugins/good'), { recursive: true });
    await writeFile(
      join(dir, 'plugins/good/sonobuoy_results.yaml'),
      'name: good\nstatus: passed\n',
    );
    // A results "file" that is a directory: bad input, not a crash.
    await mkdir(join(dir, 'plugins/dir\nfile/sonobuoy_results.yaml'), { recursive: true });
    const r = await fathom(['results', dir]);
    expect(r.stdout).toBe(
      'Plugin: good\nStatus: passed\nTotal: 1\nPassed: 1\nFailed: 0\nSkipped: 0\n\n\n',
    );
    expectError(r, 2, /^error: plugin "dir\\nfile": EISDIR.*\(and 1 more error\)\n$/);
  });

  it('says when the tarball does not exist (not found: exit 1)', async () => {
    expectError(await fathom(['results', join(work, 'nope.tar.gz')]), 1, /no such file/);
  });
});

// ---------------------------------------------------------------------------------------------
// The oracle: the same tarballs through `sonobuoy results`. Deliberate differences, by name:
//  - "no cluster health": without meta/clusterhealth.json (Sonobuoy's fixture tarballs; fathom's
//    runs write one from their cluster snapshot) Sonobuoy still prints its `sonobuoy`
//    pseudo-plugin after the others (an all-zero "Run Details", an empty YAML summary, or in
//    detailed mode a blank line and then an error, exit 1); fathom prints nothing for it.
//  - "[It] space": Sonobuoy strips `[It]` from failed names and keeps the space after it; fathom
//    drops both. Sonobuoy's form is asserted where it shows, then changed to fathom's (itSpace).
//  - "error exit": Sonobuoy logs errors with logrus and exits 1; fathom prints one line, exit 2.
//  - "health yaml": fathom does not fold long strings as yaml.v2 does (same data when parsed).
//  - "error order": Sonobuoy orders "Errors detected in files" by Go map order (the error types,
//    and files with equal counts); fathom sorts. Both outputs are put in fathom's order before
//    they are compared (errorOrder), so any other difference in that section still fails.
//  - "-n dump": fathom's dump and readable start at the -n sub-tree; Sonobuoy ignores -n there.
//    Asserted against the oracle: its output with -n is its output without, and fathom's is the
//    sub-tree of that document.
// Each is asserted in its exact form: an output that differs in any other way fails.
// ---------------------------------------------------------------------------------------------
const sonobuoy = present ? await sonobuoyBinary() : undefined;
if (present) {
  available(sonobuoy !== undefined, `the sonobuoy results oracle: ${sonobuoyUnavailableReason}`);
}

function oracle(args: readonly string[]): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(sonobuoy!, ['results', ...args], { maxBuffer: 64 << 20 }, (err, stdout, stderr) =>
      resolve({ code: err ? Number(err.code ?? 1) : 0, stdout, stderr }),
    );
  });
}

interface ResultItem {
  name: string;
  items?: ResultItem[];
}

const zeroYaml =
  'node_health:\n  total_nodes: 0\n  healthy_nodes: 0\npod_health:\n  total_nodes: 0\n  healthy_nodes: 0\napi_version: ""\nerror_summary: {}\n';
const noHealthTail: Record<string, string> = {
  report: '\nRun Details:\nAPI Server version: \nNode health: 0/0\n',
  detailed: '\n',
  dump: `\n${zeroYaml}\n`,
  readable: `\n${zeroYaml}\n`,
};

/** "[It] space": Sonobuoy's `Failed tests:` line for `[It] breaks`, asserted, then fathom's. */
function itSpace(sonobuoyOut: string): string {
  const theirs = '\nFailed tests:\n breaks\n';
  expect(sonobuoyOut.split(theirs), '[It] space: Sonobuoy keeps the space').toHaveLength(2);
  return sonobuoyOut.replace(theirs, '\nFailed tests:\nbreaks\n');
}

async function compare(target: string, args: string[], healthless = false): Promise<void> {
  const [want, got] = await Promise.all([
    oracle([target, ...args]),
    fathom(['results', target, ...args]),
  ]);
  const mode = args.includes('-m') ? args[args.indexOf('-m') + 1]! : 'report';
  let expected = want.stdout;
  if (healthless) {
    const tail = noHealthTail[mode]!;
    expect(expected.endsWith(tail), 'no cluster health').toBe(true);
    expected = expected.slice(0, -tail.length);
  }
  // The one failed test named `[It] ...` is in fx-junit; report mode lists failed names.
  const itShown = mode === 'report' && (!args.includes('-p') || args.includes('fx-junit'));
  if (target === fathomTarball && itShown) expected = itSpace(expected);
  expect(errorOrder(got.stdout)).toBe(errorOrder(expected));
  // Sonobuoy's detailed mode fails on the missing health file ("no cluster health").
  if (want.code === 0 || (healthless && mode === 'detailed')) expect(got.code).toBe(0);
  else expectError(got, 2, /./); // error exit
}

describe.skipIf(!sonobuoy)('byte for byte against sonobuoy results v0.57.5', () => {
  const modes = ['report', 'detailed', 'dump', 'readable'];

  it.each(
    [
      'e2e',
      'e2eds',
      'custom-status',
      'arbitrary-details',
      'singlefileds',
      'tar',
      'tarresultsds',
    ].flatMap((p) => modes.map((m) => [p, m])),
  )('testResultsOutput -p %s -m %s', async (plugin, mode) => {
    await compare(OUTPUT, ['-p', plugin, '-m', mode]);
  });

  it.each([
    [['-p', 'tarresultsds', '-m', 'detailed', '-s']],
    [['-p', 'tarresultsds', '-m', 'detailed', '-n', 'out1']],
    [['-p', 'tarresultsds', '-n', 'kind-control-plane']],
    [['-p', 'e2eds', '-m', 'detailed', '-n', 'junit_01.xml']],
    [['-p', 'e2e', '-n', 'nowhere']],
    [['-p', 'nope', '-m', 'dump']],
  ])('testResultsOutput %j', async (args) => {
    await compare(OUTPUT, args);
  });

  it.each(modes)('two real runs, every plugin, -m %s', async (mode) => {
    await compare(FAILURES, ['-m', mode], true);
    await compare(QUICK, ['-m', mode], true);
  });

  it('a real run, one plugin, and the missing-results tarball', async () => {
    await compare(FAILURES, ['-p', 'e2e', '-n', 'Kubernetes e2e suite']);
    await compare(QUICK, ['-p', 'systemd-logs', '-m', 'detailed', '-s']);
    await compare(MISSING, []);
  });

  it.each(modes)('a fathom tarball, -m %s', async (mode) => {
    await compare(fathomTarball, ['-m', mode]);
    // "-n dump": fathom's dump and readable start at the -n sub-tree; Sonobuoy ignores -n there.
    if (mode === 'report' || mode === 'detailed') {
      await compare(fathomTarball, ['-m', mode, '-p', 'fx-junit', '-n', 'suite']);
    }
  });

  it.each(['dump', 'readable'])(
    'a fathom tarball, -n with -m %s: Sonobuoy ignores it, fathom prints that sub-tree',
    async (mode) => {
      const args = [fathomTarball, '-p', 'fx-junit', '-m', mode];
      const [whole, narrowed, got] = await Promise.all([
        oracle(args),
        oracle([...args, '-n', 'suite']),
        fathom(['results', ...args, '-n', 'suite']),
      ]);
      expect(narrowed).toEqual(whole);
      const subtree = (item: ResultItem): ResultItem | undefined =>
        item.name === 'suite' ? item : item.items?.map(subtree).find((i) => i !== undefined);
      const want = subtree(parse(whole.stdout) as ResultItem);
      expect(want?.items?.length).toBe(4); // the suite and its test cases
      expect(got.code).toBe(0);
      expect(parse(got.stdout)).toEqual(want);
    },
  );

  describe('with meta/clusterhealth.json', () => {
    let dir = '';
    beforeAll(async () => {
      dir = join(work, 'health');
      await mkdir(dir);
      await tar.x({ file: OUTPUT, cwd: dir });
      await writeFile(join(dir, 'meta/info.json'), '{"plugins":["e2e","tarresultsds"]}');
      const detail = (name: string, healthy: boolean, namespace?: string): object => ({
        name,
        healthy,
        ready: healthy ? 'True' : 'False',
        ...(healthy ? {} : { reason: 'NotReady', message: `${name} is down` }),
        ...(namespace ? { namespace } : {}),
      });
      await writeFile(
        join(dir, 'meta/clusterhealth.json'),
        JSON.stringify({
          node_health: {
            total_nodes: 3,
            healthy_nodes: 2,
            details: [detail('n2', false), detail('n1', true), detail('n3', true)],
          },
          pod_health: {
            total_nodes: 3,
            healthy_nodes: 1,
            details: [detail('p2', false, 'b'), detail('p1', false, 'a'), detail('p0', true, 'a')],
          },
          api_version: 'v1.30.2',
          // One error type and distinct counts: Sonobuoy's output order is then fixed ("error order").
          error_summary: {
            Errors: { 'podlogs/a.txt': 3, 'podlogs/b.txt': 12, 'podlogs/c.txt': 1 },
          },
        }),
      );
    });

    it.each([
      [[]],
      [['-p', 'sonobuoy']],
      [['-m', 'detailed']],
      [['-m', 'detailed', '-p', 'sonobuoy']],
    ])('%j ends with Sonobuoy\u2019s Run Details', async (args) => {
      await compare(dir, args);
    });

    it('dumps the same health data (yaml folding aside)', async () => {
      const [want, got] = await Promise.all([
        oracle([dir, '-p', 'sonobuoy', '-m', 'dump']),
        fathom(['results', dir, '-p', 'sonobuoy', '-m', 'dump']),
      ]);
      expect(parse(got.stdout)).toEqual(parse(want.stdout));
    });
  });
});
