import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from './cli.js';
import { available, MissingUnderCI, underCI } from './required.js';

describe('what the suite requires', () => {
  it('reads CI as CI services set it', () => {
    expect(underCI({ CI: 'true' })).toBe(true);
    expect(underCI({ CI: '1' })).toBe(true);
    for (const CI of [undefined, '', '0', 'false', ' FALSE ']) expect(underCI({ CI })).toBe(false);
  });

  it('skips outside CI and fails under it, naming what is missing', () => {
    expect(available(true, 'x', { CI: 'true' })).toBe(true);
    expect(available(false, 'the peer is not built', {})).toBe(false);
    expect(() => available(false, 'the peer is not built', { CI: 'true' })).toThrow(
      new MissingUnderCI('the peer is not built'),
    );
    expect(new MissingUnderCI('y').message).toBe('required under CI (CI is set), but y');
  });
});

describe('.ci/summary.mjs', () => {
  let dir = '';
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'fathom-summary-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  /** Runs the summary on a vitest JSON report; resolves with its output and exit code. */
  async function summary(
    report: object,
    env: Record<string, string>,
    args: string[] = ['0'],
  ): Promise<{ code: number; out: string }> {
    const file = join(dir, 'vitest.json');
    await writeFile(file, JSON.stringify(report));
    const { CI: _ci, ...rest } = process.env;
    try {
      const { stdout } = await promisify(execFile)(
        process.execPath,
        [join(repoRoot, '.ci/summary.mjs'), file, ...args],
        { env: { ...rest, ...env } },
      );
      return { code: 0, out: stdout };
    } catch (err) {
      const e = err as { code: number; stdout: string };
      return { code: e.code, out: e.stdout };
    }
  }

  const withSkip = {
    numPassedTests: 5,
    numFailedTests: 0,
    numPendingTests: 2,
    numTodoTests: 0,
    testResults: [
      {
        name: '/repo/test/e2e/report.test.ts',
        status: 'passed',
        assertionResults: [
          { status: 'passed', fullName: 'renders' },
          { status: 'skipped', fullName: 'the HTML report in Chromium looks like a report' },
          { status: 'pending', fullName: 'the HTML report in Chromium filters' },
        ],
      },
    ],
  };

  it('lets skips pass outside CI', async () => {
    expect(await summary(withSkip, {})).toEqual({
      code: 0,
      out: '5 passed, 0 failed, 2 skipped\n',
    });
  });

  it('counts skips as failures under CI and names them', async () => {
    const r = await summary(withSkip, { CI: 'true' });
    expect(r.code).toBe(1);
    expect(r.out).toBe(
      'skipped under CI, counted as failed (2):\n' +
        '  /repo/test/e2e/report.test.ts: the HTML report in Chromium looks like a report\n' +
        '  /repo/test/e2e/report.test.ts: the HTML report in Chromium filters\n' +
        '5 passed, 2 failed, 2 skipped\n',
    );
  });

  it('adds the setup steps of .ci/run that failed, and a file that did not load', async () => {
    const broken = {
      numPassedTests: 3,
      numFailedTests: 0,
      testResults: [{ name: 'x.test.ts', status: 'failed', assertionResults: [] }],
    };
    expect(await summary(broken, { CI: 'true' }, ['1', '2'])).toEqual({
      code: 1,
      out:
        'failed (1):\n  x.test.ts: failed outside its tests (the file or a hook; see its output above)\n' +
        '3 passed, 3 failed\n',
    });
    expect(await summary({ numPassedTests: 4 }, { CI: 'true' }, ['0', '0'])).toEqual({
      code: 0,
      out: '4 passed, 0 failed\n',
    });
  });

  it('names each failed test with its failure (stack left out), just above the last line', async () => {
    const report = {
      numPassedTests: 1,
      numFailedTests: 1,
      testResults: [
        {
          name: '/repo/test/integration/run.test.ts',
          status: 'failed',
          assertionResults: [
            { status: 'passed', fullName: 'starts' },
            {
              status: 'failed',
              fullName: 'completes when kube-apiserver restarts',
              failureMessages: ['Error: Test timed out in 90000ms.\n    at stack'],
            },
            {
              status: 'failed',
              fullName: 'submit --wait succeeds',
              failureMessages: [
                'AssertionError: session load: queued\nerror: getting Session: Timeout\n: expected 1 to be +0\n    at file.ts:3:4\n    at other.ts:5:6',
              ],
            },
          ],
        },
      ],
    };
    report.numFailedTests = 2;
    expect(await summary(report, { CI: 'true' }, ['1', '0'])).toEqual({
      code: 1,
      out:
        'failed (2):\n' +
        '  /repo/test/integration/run.test.ts: completes when kube-apiserver restarts: ' +
        'Error: Test timed out in 90000ms.\n' +
        '  /repo/test/integration/run.test.ts: submit --wait succeeds: AssertionError: session load: queued\n' +
        '      error: getting Session: Timeout\n' +
        '      : expected 1 to be +0\n' +
        '1 passed, 2 failed\n',
    });
  });

  it('sums the Node 24 run after the Node 20 one; a missing report is one failure', async () => {
    const node24 = join(dir, 'vitest-node24.json');
    await writeFile(node24, JSON.stringify(withSkip));
    const r = await summary({ numPassedTests: 4, numFailedTests: 1 }, { CI: 'true' }, [
      '1',
      '0',
      node24,
      '0',
    ]);
    expect(r.code).toBe(1);
    expect(r.out).toContain(
      '  vitest-node24.json: /repo/test/e2e/report.test.ts: the HTML report in Chromium filters\n',
    );
    expect(r.out.split('\n').at(-2)).toBe('9 passed, 3 failed, 2 skipped');
    const missing = await summary({ numPassedTests: 4 }, {}, [
      '0',
      '0',
      join(dir, 'none.json'),
      '1',
    ]);
    expect(missing).toEqual({
      code: 1,
      out: `no test report at ${join(dir, 'none.json')}: counted as one failure\n4 passed, 1 failed\n`,
    });
  });
});
