/**
 * `fathom results PATH --cluster` on snapshots written by the local backend's snapshot code and
 * on Sonobuoy's tarballs: the same from a tarball as from its directory, the table, the
 * not-ready list, -o json, the message for a tarball without a snapshot, refused flag mixes.
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nodeObject, nodeReadiness, serverVersion } from '../../backends/local/snapshot.js';
import { FathomError } from '../../core/errors.js';
import type { ClusterNode } from '../../core/nodes.js';
import { writeResultsTarball } from '../../results/tarball.js';
import { listDocument } from '../../snapshot/layout.js';
import type { Io } from '../context.js';
import type { ResultsOptions } from './results.js';
import { showResults } from './results-show.js';
import { available } from '../../../test/support/required.js';

const fixtures = new URL('../../../../shared/conformance/sonobuoy/', import.meta.url).pathname;
const haveFixtures = available(existsSync(fixtures), `Sonobuoy's tarballs: ${fixtures} is absent`);

let work: string;
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'fathom-results-cluster-'));
});
afterAll(() => rm(work, { recursive: true, force: true }));

async function show(
  path: string,
  o: Partial<ResultsOptions> = {},
  modeGiven = false,
): Promise<{ out: string; error?: string; code?: string }> {
  let out = '';
  const io: Io = {
    out: (t) => void (out += t),
    err: () => undefined,
    isTTY: false,
    env: {},
    cwd: work,
    stdin: (async function* () {})(),
  };
  const options: ResultsOptions = {
    mode: 'report',
    output: 'text',
    format: 'text',
    cluster: true,
    ...o,
  };
  try {
    await showResults(path, options, io, modeGiven);
    return { out };
  } catch (err) {
    if (!(err instanceof FathomError)) throw err;
    return { out, error: err.message.replaceAll(path, '<path>'), code: err.code };
  }
}

const nodes: ClusterNode[] = [
  { name: 'node-1', labels: { 'node-role.kubernetes.io/control-plane': '' } },
  {
    name: 'node-2',
    labels: {},
    taints: [
      { key: 'node.kubernetes.io/not-ready', effect: 'NoSchedule' },
      { key: 'gpu', value: 'true', effect: 'NoSchedule' },
    ],
  },
];

async function runRoot(withSnapshot: boolean): Promise<{ dir: string; tarball: string }> {
  const dir = await mkdtemp(join(work, 'root-'));
  await mkdir(join(dir, 'meta'), { recursive: true });
  await writeFile(join(dir, 'meta/info.json'), '{"plugins":[]}');
  if (withSnapshot) {
    const at = { createdAt: '2026-01-01T00:00:00Z', now: '2026-01-01T00:00:00Z' };
    const items = nodes.map((n) =>
      nodeObject(n, nodeReadiness(n, true), { ...at, kubeletVersion: 'v1.36.3' }),
    );
    await mkdir(join(dir, 'resources/cluster'), { recursive: true });
    await writeFile(
      join(dir, 'resources/cluster/core_v1_nodes.json'),
      JSON.stringify(
        listDocument({ group: '', version: 'v1', resource: 'nodes', kind: 'Node' }, items),
      ),
    );
    await writeFile(join(dir, 'serverversion.json'), JSON.stringify(serverVersion('v1.36.3')));
  }
  const tarball = join(work, `${withSnapshot ? 'with' : 'without'}.tar.gz`);
  await writeResultsTarball(dir, tarball);
  return { dir, tarball };
}

describe('fathom results --cluster', () => {
  it('prints the server version, a node table and the nodes not ready', async () => {
    const { dir, tarball } = await runRoot(true);
    const shown = await show(tarball);
    expect(shown).toEqual(await show(dir));
    // The table pads its last column too: compared without line ends' spaces.
    expect(shown.out.split('\n').map((l) => l.trimEnd())).toEqual([
      'Server version: v1.36.3',
      'Nodes: 2 (1 ready, 1 not ready)',
      '',
      ' NODE      READY    VERSION    ROLES            TAINTS',
      ' node-1    True     v1.36.3    control-plane    <none>',
      ' node-2    False    v1.36.3    <none>           node.kubernetes.io/not-ready:NoSchedule,gpu=true:NoSchedule',
      '',
      'Not ready:',
      'node-2: KubeletNotReady: the cluster file gives the node the node.kubernetes.io/not-ready taint',
      '',
    ]);
  });

  it('prints one document with -o json', async () => {
    const { tarball } = await runRoot(true);
    const doc = JSON.parse((await show(tarball, { output: 'json' })).out) as Record<
      string,
      unknown
    >;
    expect(doc).toMatchObject({
      serverVersion: 'v1.36.3',
      nodes: 2,
      ready: 1,
      notReady: ['node-2'],
      kubeletVersions: { 'v1.36.3': 2 },
    });
  });

  it('says so when the tarball holds no snapshot', async () => {
    const { tarball } = await runRoot(false);
    expect(await show(tarball)).toEqual({
      out: '',
      code: 'FATHOM_RESULTS_INVALID',
      error: expect.stringMatching(/^without\.tar\.gz holds no cluster snapshot/) as string,
    });
  });

  it.each([
    [{ format: 'html' as const }, false, '--format html'],
    [{ mode: 'detailed' as const }, true, '--mode detailed'],
    [{ plugin: 'e2e' }, false, '--plugin'],
  ])('refuses %j beside it', async (o, modeGiven, what) => {
    const { tarball } = await runRoot(true);
    expect(await show(tarball, o, modeGiven)).toMatchObject({
      code: 'FATHOM_BAD_FLAG_VALUE',
      error: `--cluster: not with ${what}; it shows the cluster, not the results`,
    });
  });

  it.skipIf(!haveFixtures)("reads Sonobuoy's tarballs (their nodes as a bare array)", async () => {
    const shown = await show(
      join(fixtures, 'test/integration/testdata/results-4-e2e-failures.tar.gz'),
    );
    expect(shown.out).toContain('Server version: v1.21.1\nNodes: 1 (1 ready, 0 not ready)\n');
    expect(shown.out).toMatch(
      / kind-control-plane +True +v1\.21\.1 +control-plane,master +<none> /,
    );
  });
});
