/**
 * The cluster snapshot's settings through the real command tree: `--resources` reaches the
 * aggregator's config and narrows its ClusterRole, `--from` repeats a past run's Resources,
 * Filters and Limits (with `--resources` over them), and bad values are one `error:` line, exit 2.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tar from 'tar';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { runMain } from '../../../test/support/main.js';

interface Doc {
  kind: string;
  metadata: { name: string };
  data?: Record<string, string>;
  rules?: unknown[];
}

const gen = async (args: readonly string[]) => {
  const r = await runMain(['gen', ...args]);
  const docs = r.code === 0 ? parseAllDocuments(r.out).map((d) => d.toJS() as Doc) : [];
  const cm = docs.find((d) => d.metadata?.name === 'fathom-config');
  const config = cm
    ? (JSON.parse(cm.data!['config.json']!) as { snapshot?: Record<string, unknown> })
    : undefined;
  return { ...r, config, role: docs.find((d) => d.kind === 'ClusterRole') };
};

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fathom-gen-snapshot-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

/** A past run's tarball with one plugin and this meta/config.json. */
async function pastRun(name: string, config: object): Promise<string> {
  const root = join(dir, name);
  await mkdir(join(root, 'meta'), { recursive: true });
  await mkdir(join(root, 'plugins/p'), { recursive: true });
  await writeFile(join(root, 'meta/config.json'), JSON.stringify(config));
  await writeFile(
    join(root, 'plugins/p/definition.json'),
    JSON.stringify({
      Definition: {
        'sonobuoy-config': { driver: 'Job', 'plugin-name': 'p', 'result-format': 'raw' },
        spec: { name: 'plugin', image: 'busybox:1.36', command: ['true'] },
      },
    }),
  );
  const file = join(dir, `${name}.tar.gz`);
  await tar.c({ gzip: true, file, cwd: root }, ['meta', 'plugins']);
  return file;
}

describe('fathom gen: the cluster snapshot settings', () => {
  it('leaves the default (everything listable but secrets) when not asked', async () => {
    const r = await gen(['-p', 'systemd-logs']);
    expect(r.code, r.err).toBe(0);
    expect(r.config!.snapshot).toBeUndefined();
    expect(r.role!.rules).toContainEqual({ apiGroups: ['*'], resources: ['*'], verbs: ['list'] });
  });

  it('--resources: carried to the aggregator, and only those resources in its ClusterRole', async () => {
    const r = await gen(['-p', 'systemd-logs', '--resources', 'pods,podlogs,serverversion']);
    expect(r.code, r.err).toBe(0);
    expect(r.config!.snapshot).toMatchObject({
      Resources: ['pods', 'podlogs', 'serverversion'],
      Filters: { Namespaces: '.*', LabelSelector: '' },
      Limits: {
        PodLogs: { Namespaces: 'kube-system', SonobuoyNamespace: true, LimitBytes: 8388608 },
      },
    });
    expect(r.role!.rules).toEqual([
      { apiGroups: [''], resources: ['nodes'], verbs: ['get', 'list', 'watch'] },
      { apiGroups: ['*'], resources: ['namespaces', 'pods'], verbs: ['list'] },
      { apiGroups: [''], resources: ['pods/log'], verbs: ['get'] },
    ]);
  });

  it('refuses a bad --resources value: one line, exit 2', async () => {
    const r = await gen(['-p', 'systemd-logs', '--resources', 'pods,Nodes']);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^error: .*--resources: "Nodes" is not a resource name/);
    expect(r.err.trim().split('\n')).toHaveLength(1);
  });

  it("--from repeats a past run's Resources, Filters and Limits; --resources given again wins", async () => {
    const file = await pastRun('past', {
      Resources: ['configmaps', 'nodes'],
      Filters: { Namespaces: '^team-', LabelSelector: 'app=web' },
      Limits: {
        PodLogs: {
          Namespaces: 'kube-system',
          SonobuoyNamespace: false,
          TailLines: 100,
          LimitBytes: null,
        },
      },
    });
    const same = await gen(['--from', file]);
    expect(same.code, same.err).toBe(0);
    expect(same.config!.snapshot).toMatchObject({
      Resources: ['configmaps', 'nodes'],
      Filters: { Namespaces: '^team-', LabelSelector: 'app=web' },
      Limits: { PodLogs: { SonobuoyNamespace: false, TailLines: 100, LimitBytes: null } },
    });
    const narrowed = await gen(['--from', file, '--resources', 'pods']);
    expect(narrowed.code, narrowed.err).toBe(0);
    expect(narrowed.config!.snapshot).toMatchObject({
      Resources: ['pods'],
      Filters: { Namespaces: '^team-', LabelSelector: 'app=web' },
    });
  });

  it('refuses a past run whose snapshot settings cannot be used, naming the file and field', async () => {
    const file = await pastRun('bad', { Filters: { Namespaces: '(unclosed' } });
    const r = await gen(['--from', file]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(
      /^error: .*bad\.tar\.gz:meta\/config\.json: Filters\.Namespaces: not a regular expression/,
    );
  });
});
