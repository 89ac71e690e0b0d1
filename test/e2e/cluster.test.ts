/**
 * The embedded cluster as a user drives it with the built CLI: `fathom cluster create|get|delete`,
 * the 3 nodes a first run makes, runs placed on the cluster's nodes (taints honoured), the
 * workloads `cluster get` shows during a run, and a corrupt cluster file refused in one line.
 */
import { access, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { fathom, tempDir } from '../support/cli.js';
import { whenInDir } from '../support/wait.js';

const quickDaemonSet = (podSpec = '') => `
sonobuoy-config: {driver: DaemonSet, plugin-name: hello, result-format: raw}
spec:
  name: plugin
  image: busybox:1.36
  command: [sh, -c, 'echo "$NODE_NAME" > "$RESULTS_DIR/node.txt"; echo "$RESULTS_DIR/node.txt" > "$RESULTS_DIR/done"']
${podSpec}`;

/** Says it started (a file per node in `marks`), then waits for `gate`. */
const gatedDaemonSet = (marks: string, gate: string) => `
sonobuoy-config: {driver: DaemonSet, plugin-name: gated, result-format: raw}
spec:
  name: plugin
  image: busybox:1.36
  command: [sh, -c, 'touch "$MARKS/$NODE_NAME"; while [ ! -e "$GATE" ]; do sleep 0.05; done; echo ok > "$RESULTS_DIR/ok"; echo "$RESULTS_DIR/ok" > "$RESULTS_DIR/done"']
  env:
    - {name: MARKS, value: ${marks}}
    - {name: GATE, value: ${gate}}
`;

interface View {
  backend: string;
  nodes: {
    name: string;
    labels: Record<string, string>;
    taints: { key: string; value?: string; effect: string }[];
    workloads: { namespace: string; name: string; component: string; phase: string }[];
  }[];
}

interface Status {
  plugins: { plugin: string; node: string; status: string; 'result-status': string }[];
}

const exists = (path: string): Promise<boolean> =>
  access(path).then(
    () => true,
    () => false,
  );

/** One `error: …` line and exit 2. */
function badInput(r: { code: number; stderr: string }, message: RegExp): void {
  expect(r.stderr.trim().split('\n')).toHaveLength(1);
  expect(r.stderr).toMatch(/^error: /);
  expect(r.stderr).toMatch(message);
  expect(r.code).toBe(2);
}

describe('fathom cluster on the local backend', () => {
  it('makes 3 nodes on first use: a fresh `run --wait` needs no cluster command', async () => {
    const home = await tempDir('cluster-first');
    const work = await tempDir('cluster-first-plugins');
    await writeFile(join(work, 'hello.yaml'), quickDaemonSet());
    const env = { FATHOM_HOME: home };
    const none = await fathom(['cluster', 'get'], env);
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/^error: there is no local cluster yet: `fathom cluster create`/);

    const run = await fathom(['run', '--wait', '-p', work, '-n', 'first', '-o', 'json'], env);
    expect(run.code).toBe(0);
    const status = JSON.parse(run.stdout) as Status;
    expect(status.plugins.map((p) => p.node)).toEqual(['node-1', 'node-2', 'node-3']);
    const view = JSON.parse((await fathom(['cluster', 'get', '-o', 'json'], env)).stdout) as View;
    expect(view.backend).toBe('local');
    expect(view.nodes.map((n) => n.name)).toEqual(['node-1', 'node-2', 'node-3']);
    expect(view.nodes[0]!.labels['kubernetes.io/hostname']).toBe('node-1');
    // The run finished: nothing runs on the nodes any more.
    expect(view.nodes.flatMap((n) => n.workloads)).toEqual([]);
    await fathom(['delete', '-n', 'first'], env);
  });

  it('creates, shows (table, json, yaml) and deletes a cluster of named, labelled, tainted nodes', async () => {
    const home = await tempDir('cluster-crud');
    const work = await tempDir('cluster-crud-files');
    const config = join(work, 'cluster.yaml');
    await writeFile(
      config,
      'nodes:\n' +
        '  - {name: gpu-1, labels: {pool: gpu}, taints: [{key: gpu, value: "true", effect: NoSchedule}]}\n' +
        '  - {name: cpu-1, labels: {pool: cpu}}\n',
    );
    const env = { FATHOM_HOME: home };
    const created = await fathom(['cluster', 'create', '--config', config], env);
    expect(created.code).toBe(0);
    expect(created.stderr).toContain('Created a cluster of 2 node(s) (gpu-1, cpu-1)');

    const table = await fathom(['cluster', 'get'], env);
    expect(table.code).toBe(0);
    expect(
      table.stdout
        .trimEnd()
        .split('\n')
        .map((l) => l.trim().split(/\s+/)),
    ).toEqual([
      ['NAME', 'POOL', 'TAINTS', 'WORKLOADS'],
      ['gpu-1', 'gpu', 'gpu=true:NoSchedule', '<none>'],
      ['cpu-1', 'cpu', '<none>', '<none>'],
    ]);
    const json = JSON.parse((await fathom(['cluster', 'get', '-o', 'json'], env)).stdout) as View;
    const yaml = parse((await fathom(['cluster', 'get', '-o', 'yaml'], env)).stdout) as View;
    expect(yaml).toEqual(json);
    expect(json.nodes[0]).toMatchObject({
      name: 'gpu-1',
      labels: { pool: 'gpu', 'kubernetes.io/os': 'linux' },
      taints: [{ key: 'gpu', value: 'true', effect: 'NoSchedule' }],
      workloads: [],
    });

    const again = await fathom(['cluster', 'create', '--nodes', '2'], env);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/^error: a cluster already exists \(.*cluster\.json, 2 nodes\)/);

    // A DaemonSet whose podSpec tolerates nothing gets no pod on gpu-1: an error result there.
    await writeFile(join(work, 'picky.yaml'), quickDaemonSet('podSpec: {hostNetwork: true}\n'));
    const run = await fathom(
      ['run', '--wait', '-p', join(work, 'picky.yaml'), '-n', 'picky', '-o', 'json'],
      env,
    );
    const status = JSON.parse(run.stdout) as Status;
    expect(status.plugins.map((p) => `${p.node}:${p['result-status']}`).sort()).toEqual([
      'cpu-1:passed',
      'gpu-1:failed',
    ]);
    expect(run.code).toBe(1);
    expect(await fathom(['delete', '-n', 'picky'], env)).toMatchObject({ code: 0 });

    const deleted = await fathom(['cluster', 'delete'], env);
    expect([deleted.code, deleted.stderr]).toEqual([0, 'Deleted the cluster.\n']);
    expect(await readdir(home)).not.toContain('cluster.json');
    // As `kind delete cluster`: nothing to delete is no error.
    const twice = await fathom(['cluster', 'delete'], env);
    expect([twice.code, twice.stderr]).toEqual([0, 'There was no cluster to delete.\n']);
  });

  it('places a run on the 4 nodes of `cluster create --nodes 4`, refusing a --nodes that contradicts them', async () => {
    const home = await tempDir('cluster-four');
    const work = await tempDir('cluster-four-plugins');
    await writeFile(join(work, 'hello.yaml'), quickDaemonSet());
    const env = { FATHOM_HOME: home };
    expect((await fathom(['cluster', 'create', '--nodes', '4'], env)).code).toBe(0);

    const contradicting = await fathom(['run', '-p', work, '--nodes', '2', '-n', 'no'], env);
    badInput(
      contradicting,
      /--nodes 2: the cluster has 4 nodes \(.*cluster\.json\); leave the flag out/,
    );
    expect(await exists(join(home, 'runs', 'no'))).toBe(false);

    const run = await fathom(['run', '--wait', '-p', work, '-n', 'four', '-o', 'json'], env);
    expect(run.code).toBe(0);
    const status = JSON.parse(run.stdout) as Status;
    expect(status.plugins.map((p) => `${p.node}:${p.status}`)).toEqual([
      'node-1:complete',
      'node-2:complete',
      'node-3:complete',
      'node-4:complete',
    ]);
    await fathom(['delete', '-n', 'four'], env);
  });

  it('shows the workloads on each node during a run, and refuses to delete the cluster under it', async () => {
    const home = await tempDir('cluster-busy');
    const work = await tempDir('cluster-busy-plugins');
    const marks = join(work, 'marks');
    await writeFile(join(work, 'gated.yaml'), gatedDaemonSet(marks, join(work, 'gate')));
    const env = { FATHOM_HOME: home };
    const started = await fathom(
      ['run', '-p', join(work, 'gated.yaml'), '--nodes', '2', '-n', 'busy', '--timeout', '2m'],
      env,
    );
    expect(started.code).toBe(0);
    // Both plugin processes have started (each marks its node) and wait for the gate.
    await whenInDir(marks, async () => ((await readdir(marks)).length === 2 ? true : undefined));

    const view = JSON.parse((await fathom(['cluster', 'get', '-o', 'json'], env)).stdout) as View;
    expect(
      view.nodes.map((n) => [n.name, n.workloads.map((w) => `${w.namespace}/${w.name}`)]),
    ).toEqual([
      ['node-1', ['busy/fathom-gated-node-1']],
      ['node-2', ['busy/fathom-gated-node-2']],
    ]);
    expect(view.nodes[0]!.workloads[0]).toMatchObject({ component: 'plugin' });
    expect(['Pending', 'Running']).toContain(view.nodes[0]!.workloads[0]!.phase);
    const table = await fathom(['cluster', 'get'], env);
    expect(table.stdout).toMatch(/node-1\s+<none>\s+<none>\s+busy\/fathom-gated-node-1/);

    const refused = await fathom(['cluster', 'delete'], env);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(
      /^error: runs exist on the cluster in namespace\(s\) busy: `fathom delete --all` them first, or `fathom cluster delete --force`\n$/,
    );
    expect(await exists(join(home, 'cluster.json'))).toBe(true);

    const forced = await fathom(['cluster', 'delete', '--force'], env);
    expect(forced.code).toBe(0);
    expect(forced.stderr).toBe('Deleted the run in namespace "busy".\nDeleted the cluster.\n');
    expect(await readdir(home)).toEqual(['runs']);
    expect(await readdir(join(home, 'runs'))).toEqual([]);
  });

  it('refuses a corrupt cluster file in one line naming the file and field, starting nothing', async () => {
    const home = await tempDir('cluster-corrupt');
    const env = { FATHOM_HOME: home };
    expect((await fathom(['cluster', 'create', '--nodes', '1'], env)).code).toBe(0);
    const file = join(home, 'cluster.json');
    await writeFile(
      file,
      JSON.stringify({
        apiVersion: 'fathom.dev/v1alpha1',
        kind: 'Cluster',
        createdAt: '2026-01-01T00:00:00Z',
        nodes: [{ name: 'node-1', labels: { pool: 7 } }],
      }),
    );
    const message = new RegExp(
      `^error: ${file.replace(/[.]/g, '\\.')}: nodes\\[0\\]\\.labels\\.pool: must be string\\n$`,
    );
    for (const args of [
      ['cluster', 'get'],
      ['run', '-n', 'never'],
    ]) {
      const r = await fathom(args, env);
      badInput(r, message);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    }
    expect(await exists(join(home, 'runs', 'never'))).toBe(false);
    await writeFile(file, '{"nodes": [');
    badInput(await fathom(['cluster', 'get', '-o', 'json'], env), /cluster\.json: is not JSON/);
    // A corrupt cluster can still be deleted.
    expect((await fathom(['cluster', 'delete'], env)).code).toBe(0);
  });

  it('builds no Kubernetes cluster', async () => {
    const home = await tempDir('cluster-kube');
    for (const verb of ['create', 'delete']) {
      badInput(
        await fathom(['cluster', verb, '--backend', 'kubernetes'], { FATHOM_HOME: home }),
        new RegExp(`--backend kubernetes: fathom does not ${verb} Kubernetes clusters`),
      );
    }
    expect(await readdir(home)).toEqual([]);
  });
});
