import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../core/clock.js';
import { runCheck } from './index.js';
import { LAST_RUN } from './plugin.js';
import type { RunOutcome } from './types.js';

let dir: string;
let workDir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fathom-plugin-check-'));
  workDir = join(dir, 'state');
});
afterEach(() => rm(dir, { recursive: true, force: true }));

/** A plugin file running `script` with node; `config` adds sonobuoy-config lines. */
async function pluginFile(
  name: string,
  script: string,
  config = 'result-format: junit',
): Promise<string> {
  const js = join(dir, `${name}.js`);
  await writeFile(js, script);
  const file = join(dir, `${name}.yaml`);
  await writeFile(
    file,
    [
      'sonobuoy-config:',
      '  driver: Job',
      `  plugin-name: ${name}`,
      `  ${config}`,
      'spec:',
      '  name: plugin',
      '  image: busybox:1.36',
      `  command: [${JSON.stringify(process.execPath)}, ${JSON.stringify(js)}]`,
      '  env:',
      '  - name: GREETING',
      '    value: hi',
      '',
    ].join('\n'),
  );
  return file;
}

const junit = (cases: string): string =>
  `<?xml version="1.0"?><testsuites><testsuite name="s">${cases}</testsuite></testsuites>`;

const WRITE = `
const fs = require('fs'), path = require('path');
const dir = process.env.RESULTS_DIR;
`;

function check(plugin: string, clock = new ManualClock(), timeoutMs = 60_000): Promise<RunOutcome> {
  return runCheck(
    'plugin',
    { plugin },
    {
      clock,
      signal: new AbortController().signal,
      timeoutMs,
      workDir,
      node: 'node-1',
    },
  );
}

describe('plugin runner', () => {
  it('runs the plugin, reads the junit file its done file names, and keeps the processed results', async () => {
    const file = await pluginFile(
      'unit',
      `${WRITE}
      const xml = ${JSON.stringify(
        junit(
          '<testcase name="a"/><testcase name="b"/><testcase name="c"><failure message="no"/></testcase><testcase name="d"><skipped/></testcase>',
        ),
      )};
      fs.writeFileSync(path.join(dir, 'junit_01.xml'), xml);
      fs.writeFileSync(path.join(dir, 'env.txt'), process.env.GREETING + ' ' + process.env.NODE_NAME);
      fs.writeFileSync(path.join(dir, 'done'), path.join(dir, 'junit_01.xml'));
      setInterval(() => {}, 1e6); // a pod's container may stay up: the done file ends the run
      `,
    );
    const out = await check(file);
    expect(out).toEqual({
      status: 'critical',
      message: 'unit: failed: 1, passed: 2, skipped: 1',
      metrics: { passed: 2, failed: 1, skipped: 1 },
    });
    const last = join(workDir, LAST_RUN);
    const yaml = await readFile(join(last, 'tree/plugins/unit/sonobuoy_results.yaml'), 'utf8');
    expect(yaml).toContain('name: c');
    expect(await readFile(join(last, 'results/env.txt'), 'utf8')).toBe('hi node-1');
  });

  it('an all-passing run is ok and replaces the kept results', async () => {
    const file = await pluginFile(
      'flip',
      `${WRITE}
      const n = fs.existsSync(path.join(dir, '..', '..', 'last')) ? 2 : 1;
      const cases = Array.from({ length: n }, (_, i) => '<testcase name="t' + i + '"/>').join('');
      fs.writeFileSync(path.join(dir, 'r.xml'), ${JSON.stringify(junit(''))}.replace('</testsuite>', cases + '</testsuite>'));
      fs.writeFileSync(path.join(dir, 'done'), 'r.xml');`,
    );
    expect((await check(file)).metrics).toEqual({ passed: 1, failed: 0, skipped: 0 });
    const second = await check(file);
    expect(second).toEqual({
      status: 'ok',
      message: 'flip: passed: 2',
      metrics: { passed: 2, failed: 0, skipped: 0 },
    });
    expect(await readdir(workDir)).toEqual([LAST_RUN]);
  });

  it('a raw plugin naming a directory: each file is a result', async () => {
    const file = await pluginFile(
      'raw',
      `${WRITE}
      fs.mkdirSync(path.join(dir, 'out'));
      fs.writeFileSync(path.join(dir, 'out', 'a.log'), 'a');
      fs.writeFileSync(path.join(dir, 'out', 'b.log'), 'b');
      fs.writeFileSync(path.join(dir, 'done'), 'out');`,
      'result-format: raw',
    );
    expect(await check(file)).toMatchObject({ status: 'ok', metrics: { passed: 2, failed: 0 } });
  });

  it('exit-code-verdict: a raw plugin that exits 3 is critical', async () => {
    const file = await pluginFile(
      'verdict',
      `${WRITE} fs.writeFileSync(path.join(dir, 'notes.txt'), 'x'); process.exit(3);`,
      'result-format: raw\n  exit-code-verdict: true',
    );
    expect(await check(file)).toMatchObject({
      status: 'critical',
      metrics: { passed: 1, failed: 1 },
    });
  });

  it('a plugin that fails without a done file is critical with its last words', async () => {
    const file = await pluginFile(
      'broken',
      `console.error('cannot reach the API'); process.exit(1);`,
    );
    expect(await check(file)).toEqual({
      status: 'critical',
      message:
        'plugin broken exited with code 1 without a done file or any result: cannot reach the API',
      metrics: {},
    });
  });

  it('a done file naming a path outside the results directory is refused', async () => {
    const file = await pluginFile(
      'escape',
      `${WRITE} fs.writeFileSync(path.join(dir, 'done'), '/etc/passwd');`,
    );
    expect(await check(file)).toMatchObject({
      status: 'unknown',
      message: 'result path /etc/passwd is outside the results directory',
    });
  });

  it('a plugin still running at the timeout is killed (its whole group) and critical', async () => {
    const sockets: Socket[] = [];
    let connected!: () => void;
    const connection = new Promise<void>((r) => (connected = r));
    const server = createServer((s) => {
      sockets.push(s);
      s.on('error', () => undefined);
      connected();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    const file = await pluginFile(
      'hang',
      `require('net').connect(${port}, '127.0.0.1'); setInterval(() => {}, 1e6);`,
    );
    const clock = new ManualClock();
    const out = check(file, clock, 30_000);
    await connection;
    await clock.whenSleeping(1);
    const closed = new Promise<void>((r) => sockets[0]!.on('close', () => r()));
    await clock.advance(30_000);
    expect(await out).toEqual({ status: 'critical', message: 'timed out after 30s', metrics: {} });
    await closed;
    server.close();
  });

  it('runs the repository’s smoke-junit plugin (a shell script) on this machine', async () => {
    const file = resolve(import.meta.dirname, '../../../plugins/smoke-junit.yaml');
    expect(existsSync(file)).toBe(true);
    const out = await check(file);
    expect(out.status).toBe('ok');
    expect(out.metrics.passed! + out.metrics.skipped!).toBe(5);
  });

  it('without a work directory, or with a file of two plugins, it is unknown', async () => {
    const file = await pluginFile('one', '');
    const noDir = await runCheck(
      'plugin',
      { plugin: file },
      {
        clock: new ManualClock(),
        signal: new AbortController().signal,
        timeoutMs: 1000,
      },
    );
    expect(noDir).toMatchObject({
      status: 'unknown',
      message: expect.stringMatching(/work directory/),
    });
    const two = join(dir, 'two.yaml');
    const text = await readFile(file, 'utf8');
    await writeFile(two, `${text}---\n${text.replace('plugin-name: one', 'plugin-name: other')}`);
    expect(await check(two)).toMatchObject({
      status: 'unknown',
      message: expect.stringMatching(/holds 2/),
    });
  });
});
