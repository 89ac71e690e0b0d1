import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, symlink } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadPluginPaths } from './loader.js';
import type { PluginDefinition } from './types.js';
import { available } from '../../test/support/required.js';

const builtinDir = fileURLToPath(new URL('../../plugins/', import.meta.url));
const onPath = (tool: string) =>
  (process.env.PATH ?? '').split(path.delimiter).some((d) => d && existsSync(path.join(d, tool)));
// Without curl or wget the plugins skip their progress update, and so do these checks of it.
const canPost = available(
  onPath('curl') || onPath('wget'),
  'neither curl nor wget is on PATH: the example plugins cannot post progress',
);

interface Run {
  code: number | null;
  stderr: string;
  resultsDir: string;
  /** Bodies POSTed to /progress. */
  progress: string[];
}

let work: string;
let server: http.Server;
let port: number;
let posts: { url: string; body: string }[] = [];

beforeAll(async () => {
  work = await mkdtemp(path.join(tmpdir(), 'fathom-examples-'));
  server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      posts.push({ url: `${req.method} ${req.url}`, body });
      res.end();
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  port = (server.address() as AddressInfo).port;
});
afterAll(async () => {
  server.close();
  await rm(work, { recursive: true, force: true });
});

/** Runs the plugin's command + args as fathom's local backend does: fresh cwd, Sonobuoy's env. */
async function runLocally(
  p: PluginDefinition,
  extraEnv: Record<string, string> = {},
): Promise<Run> {
  const root = await mkdtemp(path.join(work, `${p.name}-`));
  const resultsDir = path.join(root, 'results');
  const scratch = path.join(root, 'scratch');
  await mkdir(resultsDir);
  await mkdir(scratch);
  posts = [];
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    RESULTS_DIR: resultsDir,
    SONOBUOY_RESULTS_DIR: resultsDir,
    NODE_NAME: 'node-a',
    SONOBUOY_PROGRESS_PORT: String(port),
    SONOBUOY_CONFIG_DIR: path.join(root, 'config'),
    ...Object.fromEntries(p.container.env.map((e) => [e.name, e.value])),
    ...extraEnv,
  };
  const [cmd, ...rest] = [...p.container.command, ...p.container.args];
  const child = spawn(cmd!, rest, { cwd: scratch, env, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const [code] = (await once(child, 'close')) as [number | null];
  expect(posts.every((x) => x.url === 'POST /progress')).toBe(true);
  return { code, stderr, resultsDir, progress: posts.map((x) => x.body) };
}

/** The done file must name an existing file inside the results dir; returns its text. */
async function resultOf(run: Run): Promise<{ file: string; text: string }> {
  expect(run.code, run.stderr).toBe(0);
  const file = (await readFile(path.join(run.resultsDir, 'done'), 'utf8')).trim();
  expect(path.dirname(file)).toBe(run.resultsDir);
  return { file, text: await readFile(file, 'utf8') };
}

async function example(name: string): Promise<PluginDefinition> {
  const { plugins, warnings } = await loadPluginPaths([name], { builtinDir });
  expect(warnings).toEqual([]);
  return plugins[0]!;
}

function junitCases(text: string) {
  expect(XMLValidator.validate(text)).toBe(true);
  const doc = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '' }).parse(text) as {
    testsuites: { testsuite: { testcase: Record<string, unknown>[]; failures: string } };
  };
  return doc.testsuites.testsuite;
}

function goEvents(text: string) {
  const lines = text.split('\n').filter((l) => l !== '');
  const events = lines.map(
    (l) => JSON.parse(l) as { Action: string; Test?: string; Output?: string },
  );
  const final = new Map<string, string>();
  for (const e of events) {
    expect(typeof e.Action).toBe('string');
    if (e.Test && ['pass', 'fail', 'skip'].includes(e.Action)) final.set(e.Test, e.Action);
  }
  return { events, final };
}

function expectOneProgress(run: Run, total: number) {
  if (!canPost) return expect(run.progress).toEqual([]);
  expect(run.progress).toHaveLength(1);
  const update = JSON.parse(run.progress[0]!) as { msg: string; total: number; completed: number };
  expect(update.msg).not.toBe('');
  expect(update.total).toBe(total);
  return update;
}

describe('example plugins run locally', () => {
  it('node-inventory writes a manual results tree with os, cpu, memory and disk', async () => {
    const p = await example('node-inventory');
    expect([p.driver, p.resultFormat, p.resultFiles]).toEqual([
      'DaemonSet',
      'manual',
      ['node-inventory.yaml'],
    ]);
    const run = await runLocally(p);
    const { file, text } = await resultOf(run);
    expect(path.basename(file)).toBe('node-inventory.yaml');
    const tree = parse(text) as {
      name: string;
      status: string;
      items: { name: string; status: string; details: Record<string, unknown> }[];
    };
    expect([tree.name, tree.status]).toEqual(['node-inventory', 'passed']);
    expect(tree.items.map((i) => [i.name, i.status])).toEqual([
      ['os', 'passed'],
      ['cpu', 'passed'],
      ['memory', 'passed'],
      ['disk', 'passed'],
    ]);
    const [os, cpu, memory, disk] = tree.items;
    expect(os!.details).toMatchObject({ node: 'node-a', 'kernel-name': 'Linux' });
    expect(cpu!.details.count).toBeGreaterThan(0);
    expect(memory!.details['total-kib']).toBeGreaterThan(0);
    expect(disk!.details['total-kib']).toBeGreaterThan(0);
    expect(expectOneProgress(run, 4)).toMatchObject(canPost ? { completed: 4 } : {});
  });

  it('smoke-junit writes well-formed JUnit with real checks', async () => {
    const p = await example('smoke-junit');
    expect([p.driver, p.resultFormat]).toEqual(['Job', 'junit']);
    const run = await runLocally(p);
    const suite = junitCases((await resultOf(run)).text);
    expect(suite.testcase.map((c) => c.name)).toEqual([
      'temp directory is writable',
      'proc is readable',
      'localhost resolves',
      'results directory is writable',
      'clock is set',
    ]);
    expect(suite.failures).toBe('0');
    // Skipped only where getent is missing.
    expect(suite.testcase.filter((c) => 'skipped' in c)).toHaveLength(onPath('getent') ? 0 : 1);
    expectOneProgress(run, 5);
  });

  it('smoke-junit reports a failing check as a <failure> and in the progress update', async () => {
    const run = await runLocally(await example('smoke-junit'), {
      TMPDIR: path.join(work, 'missing'),
    });
    const suite = junitCases((await resultOf(run)).text);
    expect(suite.failures).toBe('1');
    expect(suite.testcase[0]).toHaveProperty('failure');
    const update = expectOneProgress(run, 5) as { failures?: string[] } | undefined;
    if (canPost) expect(update!.failures).toEqual(['temp directory is writable']);
  });

  it('smoke-gojson writes a go test -json stream: run, output and a verdict per test', async () => {
    const p = await example('smoke-gojson');
    expect([p.driver, p.resultFormat]).toEqual(['Job', 'gojson']);
    const run = await runLocally(p);
    const { file, text } = await resultOf(run);
    expect(path.extname(file)).toBe('.json');
    const { events, final } = goEvents(text);
    const tests = [
      'TestTempDirWritable',
      'TestProcReadable',
      'TestLocalhostResolves',
      'TestShellArithmetic',
    ];
    expect([...final.keys()]).toEqual(tests);
    expect(final.get('TestLocalhostResolves')).toBe(onPath('getent') ? 'pass' : 'skip');
    for (const t of tests) {
      expect(events.filter((e) => e.Test === t && e.Action === 'run')).toHaveLength(1);
      expect(events.some((e) => e.Test === t && e.Action === 'output')).toBe(true);
    }
    expect(events.at(-1)).toMatchObject({ Action: 'pass' });
    expect(events.at(-1)).not.toHaveProperty('Test');
    expectOneProgress(run, 4);
  });

  it('smoke-gojson marks a failing check fail, with its reason as output', async () => {
    const run = await runLocally(await example('smoke-gojson'), {
      TMPDIR: path.join(work, 'missing'),
    });
    const { events, final } = goEvents((await resultOf(run)).text);
    expect(final.get('TestTempDirWritable')).toBe('fail');
    expect(
      events.some((e) => e.Test === 'TestTempDirWritable' && /smoke: .+/.test(e.Output ?? '')),
    ).toBe(true);
    expect(events.at(-1)).toMatchObject({ Action: 'fail' });
  });

  it('works without curl or wget, skipping the progress update silently', async () => {
    // A PATH holding every tool of the real PATH except curl and wget.
    const bin = path.join(work, 'bin-no-http');
    await mkdir(bin);
    for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
      if (!dir || !existsSync(dir)) continue;
      for (const tool of await readdir(dir)) {
        if (tool === 'curl' || tool === 'wget' || existsSync(path.join(bin, tool))) continue;
        await symlink(path.join(dir, tool), path.join(bin, tool));
      }
    }
    for (const name of ['node-inventory', 'smoke-junit', 'smoke-gojson']) {
      const run = await runLocally(await example(name), { PATH: bin });
      expect(run.stderr).toBe('');
      await resultOf(run);
      expect(run.progress).toEqual([]);
    }
  });
});
