/**
 * The local backend's cluster snapshot through the built CLI: `fathom cluster create --config`
 * with labels and taints (one node marked not ready), `fathom run`, then the tarball holds the
 * nodes and plugin processes as Node and Pod objects, their logs, hosts, the server version,
 * the query times and Sonobuoy's clusterhealth.json; `fathom results` shows them.
 */
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import * as tar from 'tar';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { errorOrder, sonobuoyBinary, sonobuoyUnavailableReason } from '../peers/sonobuoy.js';
import { fathom, tempDir } from '../support/cli.js';
import { skipOrFail } from '../support/required.js';

type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const cluster = `
nodes:
  - name: cp-1
    labels: { node-role.kubernetes.io/control-plane: "", pool: system }
  - name: gpu-1
    labels: { pool: gpu }
    taints: [{ key: gpu, value: "true", effect: NoSchedule }]
  - name: sick-1
    taints: [{ key: node.kubernetes.io/not-ready, effect: NoSchedule }]
`;
const daemonSet = `
sonobuoy-config: {driver: DaemonSet, plugin-name: snap-ds, result-format: raw}
spec:
  name: plugin
  image: busybox:1.36
  command: [sh, -c]
  args: ['echo "k8s=$SONOBUOY_K8S_VERSION"; echo "warning: slow disk" >&2; mkdir -p "$RESULTS_DIR/out" && echo hi > "$RESULTS_DIR/out/hi.txt" && echo "$RESULTS_DIR/out" > "$RESULTS_DIR/done"']
`;
const job = `
sonobuoy-config: {driver: Job, plugin-name: snap-job, result-format: raw}
spec:
  name: plugin
  image: busybox:1.36
  command: [sh, -c, 'echo "k8s=$SONOBUOY_K8S_VERSION"; echo ok > "$RESULTS_DIR/ok.txt" && echo "$RESULTS_DIR/ok.txt" > "$RESULTS_DIR/done"']
`;

let work = '';
let env: NodeJS.ProcessEnv = {};
let plugins = '';

async function runAndExtract(ns: string, extra: string[] = []): Promise<[string, string]> {
  const run = await fathom(['run', '--wait', '-p', plugins, '-n', ns, ...extra], env);
  expect(run.code, run.stderr).toBe(0);
  const retrieved = await fathom(['retrieve', work, '-n', ns], env);
  expect(retrieved.code, retrieved.stderr).toBe(0);
  const tarball = retrieved.stdout.trim();
  const dir = await tempDir(`snapshot-${ns}`);
  await tar.x({ file: tarball, cwd: dir });
  return [tarball, dir];
}

beforeAll(async () => {
  work = await tempDir('snapshot');
  env = { FATHOM_HOME: join(work, 'home') };
  plugins = join(work, 'plugins');
  await writeFile(join(work, 'cluster.yaml'), cluster);
  await mkdir(plugins);
  await writeFile(join(plugins, 'ds.yaml'), daemonSet);
  await writeFile(join(plugins, 'job.yaml'), job);
  const created = await fathom(['cluster', 'create', '--config', join(work, 'cluster.yaml')], env);
  expect(created.code, created.stderr).toBe(0);
});
afterAll(async () => {
  for (const ns of ['snap', 'snap-version', 'snap-some']) await fathom(['delete', '-n', ns], env);
});

describe('the local snapshot in a run tarball', () => {
  let tarball = '';
  let dir = '';
  const json = async (rel: string): Promise<Obj> =>
    JSON.parse(await readFile(join(dir, rel), 'utf8')) as Obj;
  beforeAll(async () => {
    [tarball, dir] = await runAndExtract('snap');
  });

  it('holds the files of Sonobuoy\u2019s layout', async () => {
    const files: string[] = [];
    for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) {
      if (e.isFile()) files.push(relative(dir, join(e.parentPath, e.name)));
    }
    const pods = ['fathom-snap-ds-cp-1', 'fathom-snap-ds-gpu-1', 'fathom-snap-ds-sick-1'];
    expect(files).toEqual(
      expect.arrayContaining([
        'resources/cluster/core_v1_nodes.json',
        'resources/ns/snap/core_v1_pods.json',
        'serverversion.json',
        'meta/query-time.json',
        'meta/clusterhealth.json',
        'hosts/cp-1/healthz.json',
        'hosts/gpu-1/healthz.json',
        'podlogs/snap/fathom-aggregator/logs/aggregator.txt',
        'podlogs/snap/fathom-snap-job-job/logs/plugin.txt',
        ...pods.flatMap((p) => [
          `podlogs/snap/${p}/logs/plugin.txt`,
          `podlogs/snap/${p}/logs/sonobuoy-worker.txt`,
        ]),
      ]),
    );
    // The not-ready node's kubelet does not answer: no healthz, a recorded error instead.
    expect(files).not.toContain('hosts/sick-1/healthz.json');
    const rows = (await json('meta/query-time.json')) as unknown as Obj[];
    expect(rows.map((r): unknown[] => [r.queryobj, r.namespace, r.error])).toEqual([
      ['serverversion', undefined, undefined],
      ['nodes', undefined, undefined],
      ['pods', 'snap', undefined],
      ['Nodes', undefined, 'node sick-1: its kubelet does not answer (not ready)'],
      ['PodLogs', 'snap', undefined],
    ]);
    expect(await json('hosts/cp-1/healthz.json')).toEqual({ status: 200 });
  });

  it('has the simulated nodes as Node objects', async () => {
    const list = await json('resources/cluster/core_v1_nodes.json');
    expect(list).toMatchObject({ apiVersion: 'v1', kind: 'NodeList' });
    const byName = new Map((list.items as Obj[]).map((n) => [n.metadata.name as string, n]));
    expect([...byName.keys()]).toEqual(['cp-1', 'gpu-1', 'sick-1']);
    expect(byName.get('gpu-1')).toMatchObject({
      kind: 'Node',
      metadata: { labels: { pool: 'gpu', 'kubernetes.io/hostname': 'gpu-1' } },
      spec: { taints: [{ key: 'gpu', value: 'true', effect: 'NoSchedule' }] },
      status: {
        conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady' }],
        nodeInfo: { kubeletVersion: 'v1.36.3' },
      },
    });
    expect(byName.get('sick-1')!.status.conditions[0]).toMatchObject({
      type: 'Ready',
      status: 'False',
      reason: 'KubeletNotReady',
    });
    expect((await json('serverversion.json')).gitVersion).toBe('v1.36.3');
  });

  it('has the plugin processes as Pods, with their containers and logs', async () => {
    const pods = (await json('resources/ns/snap/core_v1_pods.json')).items as Obj[];
    const byName = new Map(pods.map((p) => [p.metadata.name as string, p]));
    expect([...byName.keys()].sort()).toEqual([
      'fathom-aggregator',
      'fathom-snap-ds-cp-1',
      'fathom-snap-ds-gpu-1',
      'fathom-snap-ds-sick-1',
      'fathom-snap-job-job',
    ]);
    const ds = byName.get('fathom-snap-ds-gpu-1')!;
    expect(ds).toMatchObject({
      kind: 'Pod',
      metadata: { namespace: 'snap', labels: { 'sonobuoy-plugin': 'snap-ds' } },
      spec: { nodeName: 'gpu-1' },
      status: { phase: 'Succeeded' },
    });
    expect(ds.spec.containers[0]).toMatchObject({
      name: 'plugin',
      image: 'busybox:1.36',
      command: ['sh', '-c'],
    });
    expect(
      (ds.status.containerStatuses as Obj[]).map((c): unknown[] => [
        c.name,
        c.state.terminated?.exitCode,
      ]),
    ).toEqual([
      ['plugin', 0],
      ['sonobuoy-worker', 0],
    ]);
    const log = await readFile(join(dir, 'podlogs/snap/fathom-snap-ds-gpu-1/logs/plugin.txt'));
    // The plugins are told the local cluster's version.
    expect(log.toString()).toBe('k8s=v1.36.3\nwarning: slow disk\n');
  });

  it('is summarised in clusterhealth.json and shown by fathom results', async () => {
    const health = await json('meta/clusterhealth.json');
    expect(health).toMatchObject({
      node_health: { total_nodes: 3, healthy_nodes: 2 },
      pod_health: { total_nodes: 5, healthy_nodes: 5 },
      api_version: 'v1.36.3',
    });
    expect(health.error_summary.Warnings).toMatchObject({
      'podlogs/snap/fathom-snap-ds-cp-1/logs/plugin.txt': 1,
    });
    const report = await fathom(['results', tarball]);
    expect(report.code).toBe(0);
    expect(report.stdout).toContain(
      '\nRun Details:\nAPI Server version: v1.36.3\nNode health: 2/3 (66%)\nDetails for failed nodes:\n' +
        'sick-1 Ready:False: KubeletNotReady: the cluster file gives the node the node.kubernetes.io/not-ready taint\n\n' +
        'Pods health: 5/5 (100%)\n',
    );
    const shown = await fathom(['results', tarball, '--cluster']);
    expect(shown.code, shown.stderr).toBe(0);
    const lines = shown.stdout.split('\n').map((l) =>
      l
        .trim()
        .split(/\s{2,}/)
        .join(' | '),
    );
    expect(lines).toEqual([
      'Server version: v1.36.3',
      'Nodes: 3 (2 ready, 1 not ready)',
      '',
      'NODE | READY | VERSION | ROLES | TAINTS',
      'cp-1 | True | v1.36.3 | control-plane | <none>',
      'gpu-1 | True | v1.36.3 | <none> | gpu=true:NoSchedule',
      'sick-1 | False | v1.36.3 | <none> | node.kubernetes.io/not-ready:NoSchedule',
      '',
      'Not ready:',
      'sick-1: KubeletNotReady: the cluster file gives the node the node.kubernetes.io/not-ready taint',
      '',
    ]);
    const yaml = await fathom(['results', tarball, '--cluster', '-o', 'json']);
    expect(JSON.parse(yaml.stdout)).toMatchObject({ notReady: ['sick-1'], ready: 2 });
  });

  it('prints as `sonobuoy results` prints it, Run Details included', async (ctx) => {
    const sonobuoy = await sonobuoyBinary();
    if (!sonobuoy)
      return skipOrFail(ctx, `the sonobuoy results oracle: ${sonobuoyUnavailableReason}`);
    for (const mode of ['report', 'detailed', 'dump', 'readable']) {
      const want = await new Promise<string>((resolve, reject) =>
        execFile(sonobuoy, ['results', tarball, '-m', mode], (err, out) =>
          err ? reject(new Error(err.message)) : resolve(out),
        ),
      );
      const got = await fathom(['results', tarball, '-m', mode]);
      expect(errorOrder(got.stdout), mode).toBe(errorOrder(want));
    }
  });
});

describe('--kubernetes-version on the local backend', () => {
  it('is what the plugins are told; the server keeps its own version', async () => {
    const [, dir] = await runAndExtract('snap-version', ['--kubernetes-version', 'v1.35.2']);
    const log = await readFile(
      join(dir, 'podlogs/snap-version/fathom-snap-job-job/logs/plugin.txt'),
      'utf8',
    );
    expect(log).toBe('k8s=v1.35.2\n');
    const version = JSON.parse(await readFile(join(dir, 'serverversion.json'), 'utf8')) as Obj;
    expect(version.gitVersion).toBe('v1.36.3');
  });
});

describe('--resources on the local backend', () => {
  it('collects what it names, and meta/config.json keeps it for --from', async () => {
    const [, dir] = await runAndExtract('snap-some', ['--resources', 'nodes,podlogs']);
    const rows = JSON.parse(await readFile(join(dir, 'meta/query-time.json'), 'utf8')) as Obj[];
    expect(rows.map((r): unknown => r.queryobj)).toEqual(['nodes', 'Nodes', 'PodLogs']);
    await expect(readFile(join(dir, 'serverversion.json'))).rejects.toThrow(/ENOENT/);
    await expect(readFile(join(dir, 'resources/ns/snap-some/core_v1_pods.json'))).rejects.toThrow(
      /ENOENT/,
    );
    const config = JSON.parse(await readFile(join(dir, 'meta/config.json'), 'utf8')) as Obj;
    expect(config.Resources).toEqual(['nodes', 'podlogs']);
    expect(config.Limits.PodLogs.Namespaces).toBe('kube-system');
  });
});
