import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tar from 'tar';
import { parse } from 'yaml';

interface Item {
  name: string;
  status: string;
  items?: Item[];
}
import { fathom, tempDir } from '../support/cli.js';

const jobPlugin = `
sonobuoy-config:
  driver: Job
  plugin-name: e2e-junit
  result-format: junit
spec:
  name: plugin
  image: busybox:1.36
  command: [sh, -c]
  args:
    - |
      cat > "$RESULTS_DIR/junit.xml" <<XML
      <testsuite name="e2e"><testcase name="passes"/><testcase name="fails"><failure message="boom">stack</failure></testcase></testsuite>
      XML
      node -e 'const u = "http://127.0.0.1:" + process.env.SONOBUOY_PROGRESS_PORT + "/progress";
        const post = (b) => fetch(u, { method: "POST", body: JSON.stringify(b) });
        post({ msg: "half way", total: 2, completed: 1 }).then(() => post({ msg: "all done", appendcompleted: 1 }));'
      echo "$RESULTS_DIR/junit.xml" > "$RESULTS_DIR/done"
`;

const daemonSetPlugin = `
sonobuoy-config:
  driver: DaemonSet
  plugin-name: e2e-nodes
  result-format: raw
spec:
  name: plugin
  image: busybox:1.36
  command: [sh, -c, 'mkdir -p "$RESULTS_DIR/out" && echo "hello from $NODE_NAME" > "$RESULTS_DIR/out/hello.txt" && echo "$PLUGIN_GREETING" > "$RESULTS_DIR/out/env.txt" && echo "$RESULTS_DIR/out" > "$RESULTS_DIR/done"']
  env:
    - name: PLUGIN_GREETING
      value: from-yaml
`;

async function tree(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile()) out.push(relative(dir, join(e.parentPath, e.name)));
  }
  return out.sort();
}

describe('fathom run --wait on the local backend', () => {
  let home: string;
  let plugins: string;
  let out: string;
  const env = (): NodeJS.ProcessEnv => ({ FATHOM_HOME: home });

  beforeAll(async () => {
    home = await tempDir('home');
    plugins = await tempDir('plugins');
    out = await tempDir('out');
    await writeFile(join(plugins, 'job.yaml'), jobPlugin);
    await writeFile(join(plugins, 'ds.yaml'), daemonSetPlugin);
  });
  afterAll(async () => {
    await fathom(['delete', '-n', 'e2e'], env());
  });

  it('runs a Job and a DaemonSet on 3 nodes and brings every result home', async () => {
    const run = await fathom(
      [
        'run',
        '--wait',
        '-p',
        plugins,
        '--nodes',
        '3',
        '-n',
        'e2e',
        '--timeout',
        '2m',
        '--plugin-env',
        'e2e-nodes.PLUGIN_GREETING=from-flag',
        '-o',
        'json',
      ],
      env(),
    );
    expect(run.stderr).toContain('started in namespace "e2e"');
    const status = JSON.parse(run.stdout) as {
      status: string;
      plugins: { plugin: string; node: string; status: string; progress?: object }[];
    };
    expect(status.status).toBe('complete');
    // Progress went plugin -> worker relay -> aggregator, and the appending update was merged.
    expect(status.plugins.find((p) => p.plugin === 'e2e-junit')?.progress).toMatchObject({
      name: 'e2e-junit',
      node: 'global',
      msg: 'all done',
      total: 2,
      completed: 2,
    });
    expect(status.plugins.map((p) => `${p.plugin}/${p.node}:${p.status}`).sort()).toEqual([
      'e2e-junit/global:complete',
      'e2e-nodes/node-1:complete',
      'e2e-nodes/node-2:complete',
      'e2e-nodes/node-3:complete',
    ]);
    // The junit plugin reports a failing test, so the run fails.
    expect(run.code).toBe(1);

    const retrieved = await fathom(['retrieve', out, '-n', 'e2e'], env());
    expect(retrieved.code).toBe(0);
    const tarball = retrieved.stdout.trim();
    expect(tarball).toMatch(/\/\d{12}_sonobuoy_[0-9a-f-]{36}\.tar\.gz$/);
    const extracted = await tempDir('extract');
    await tar.x({ file: tarball, cwd: extracted });
    const files = await tree(extracted);
    expect(files).toEqual(
      expect.arrayContaining([
        'meta/config.json',
        'meta/info.json',
        'meta/run.log',
        'plugins/e2e-junit/definition.json',
        'plugins/e2e-junit/results/global/junit.xml',
        'plugins/e2e-nodes/definition.json',
        ...['node-1', 'node-2', 'node-3'].flatMap((n) => [
          `plugins/e2e-nodes/results/${n}/hello.txt`,
          `plugins/e2e-nodes/results/${n}/env.txt`,
        ]),
      ]),
    );
    expect(
      await readFile(join(extracted, 'plugins/e2e-nodes/results/node-2/hello.txt'), 'utf8'),
    ).toBe('hello from node-2\n');
    expect(
      await readFile(join(extracted, 'plugins/e2e-nodes/results/node-1/env.txt'), 'utf8'),
    ).toBe('from-flag\n');
    expect(JSON.parse(await readFile(join(extracted, 'meta/info.json'), 'utf8'))).toEqual({
      plugins: ['e2e-nodes', 'e2e-junit'],
    });
    expect(
      await readFile(join(extracted, 'plugins/e2e-junit/results/global/junit.xml'), 'utf8'),
    ).toContain('<testcase name="passes"/>');
    // Post-processed into Sonobuoy's item tree: the failing test fails the plugin.
    const junitTree = parse(
      await readFile(join(extracted, 'plugins/e2e-junit/sonobuoy_results.yaml'), 'utf8'),
    ) as Item;
    expect(junitTree.status).toBe('failed');
    expect(junitTree.items?.[0]?.items?.[0]?.items?.map((i) => `${i.name}:${i.status}`)).toEqual([
      'passes:passed',
      'fails:failed',
    ]);
    const nodes = parse(
      await readFile(join(extracted, 'plugins/e2e-nodes/sonobuoy_results.yaml'), 'utf8'),
    ) as Item;
    expect(nodes.items?.map((i) => `${i.name}:${i.status}`)).toEqual([
      'node-1:passed',
      'node-2:passed',
      'node-3:passed',
    ]);
  });

  it('refuses a second run in the same namespace, and shows status from another process', async () => {
    const again = await fathom(['run', '-p', plugins, '-n', 'e2e'], env());
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/^error: a run already exists in namespace "e2e"/m);
    const status = await fathom(['status', '-n', 'e2e', '--show-all'], env());
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(/e2e-nodes\s+node-3\s+complete/);
    expect(status.stdout).toContain('Run complete');
  });
});

describe('bad input starts nothing', () => {
  it.each([
    [['run', '--bogus'], /unknown option '--bogus'/],
    [['run', '--timeout', '5 minutes'], /--timeout: invalid duration "5 minutes"/],
    [['run', '--nodes', 'zero'], /--nodes: expected a whole number/],
    [['run', '-p', '/nonexistent/plugin.yaml'], /nonexistent/],
  ])('%j exits 2 with one line', async (args, message) => {
    const home = await tempDir('bad');
    const r = await fathom(args, { FATHOM_HOME: home });
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(message);
    expect(await readdir(home)).toEqual([]);
  });
});

describe('gen plugin, a cluster file and node selectors', () => {
  it('runs a generated DaemonSet only on the nodes its selector matches', async () => {
    const home = await tempDir('gen');
    const dir = await tempDir('gen-plugin');
    const gen = await fathom([
      'gen',
      'plugin',
      '--name',
      'gpu-check',
      '--type',
      'daemonset',
      '--node-selector',
      'pool=gpu',
      '--cmd',
      'sh',
      '--arg=-c',
      '--arg',
      'echo "$NODE_NAME" > "$RESULTS_DIR/node.txt"; echo "$RESULTS_DIR/node.txt" > "$RESULTS_DIR/done"',
    ]);
    expect(gen.code).toBe(0);
    expect(gen.stdout).toContain('plugin-name: gpu-check');
    await writeFile(join(dir, 'gpu-check.yaml'), gen.stdout);
    await writeFile(
      join(dir, 'cluster.yaml'),
      'nodes:\n  - {name: gpu-a, labels: {pool: gpu}}\n  - {name: cpu-a}\n  - {name: gpu-b, labels: {pool: gpu}}\n',
    );
    const env = { FATHOM_HOME: home };
    const run = await fathom(
      [
        'run',
        '--wait',
        '-p',
        join(dir, 'gpu-check.yaml'),
        '--cluster-config',
        join(dir, 'cluster.yaml'),
        '-n',
        'gen',
        '-o',
        'json',
      ],
      env,
    );
    expect(run.code).toBe(0);
    const status = JSON.parse(run.stdout) as { plugins: { node: string; status: string }[] };
    expect(status.plugins.map((e) => `${e.node}:${e.status}`)).toEqual([
      'gpu-a:complete',
      'gpu-b:complete',
    ]);
    await fathom(['delete', '-n', 'gen'], env);
  });
});

describe('exit-code verdict (fathom extension for raw plugins)', () => {
  it("makes a raw plugin's exit code its result, with no done file needed", async () => {
    const home = await tempDir('exit');
    const dir = await tempDir('exit-plugins');
    const plugin = (name: string, code: number): string =>
      `sonobuoy-config: {driver: DaemonSet, plugin-name: ${name}, result-format: raw, exit-code-verdict: true}\n` +
      `spec: {name: plugin, image: busybox, command: [sh, -c, 'echo checked > "$RESULTS_DIR/log.txt"; exit ${code}']}\n`;
    await writeFile(join(dir, 'passes.yaml'), plugin('passes', 0));
    await writeFile(join(dir, 'fails.yaml'), plugin('fails', 4));
    const env = { FATHOM_HOME: home };
    const run = await fathom(
      ['run', '--wait', '-p', dir, '--nodes', '2', '-n', 'exit', '-o', 'json'],
      env,
    );
    const status = JSON.parse(run.stdout) as {
      plugins: { plugin: string; status: string; 'result-status': string }[];
    };
    expect(status.plugins.map((e) => `${e.plugin}:${e.status}:${e['result-status']}`)).toEqual([
      'fails:complete:failed',
      'fails:complete:failed',
      'passes:complete:passed',
      'passes:complete:passed',
    ]);
    expect(run.code).toBe(1);
    const out = await tempDir('exit-out');
    const root = await tempDir('exit-tree');
    await tar.x({
      file: (await fathom(['retrieve', out, '-n', 'exit'], env)).stdout.trim(),
      cwd: root,
    });
    expect(
      await readFile(join(root, 'plugins/fails/results/node-2/fathom-exit-code'), 'utf8'),
    ).toBe('4\n');
    expect(await readFile(join(root, 'plugins/fails/results/node-2/log.txt'), 'utf8')).toBe(
      'checked\n',
    );
    await fathom(['delete', '-n', 'exit'], env);
  });
});
