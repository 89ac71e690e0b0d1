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
import { FathomError } from '../../core/errors.js';
import type { ClusterNode } from '../../core/nodes.js';
import { writeResultsTarball } from '../../results/tarball.js';
import type { ResultsOptions } from './results.js';
import { showResults } from './results-show.js';
import { capturingIo } from '../../../test/support/main.js';
import { available } from '../../../test/support/required.js';
import { writeNodesSnapshot } from '../../../test/support/snapshot.js';

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
  const { io, out } = capturingIo({ cwd: work });
  const options: ResultsOptions = {
    mode: 'report',
    output: 'text',
    format: 'text',
    cluster: true,
    ...o,
  };
  try {
    await showResults(path, options, io, modeGiven);
    return { out: out() };
  } catch (err) {
    if (!(err instanceof FathomError)) throw err;
    return { out: out(), error: err.message.replaceAll(path, '<path>'), code: err.code };
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
  if (withSnapshot) await writeNodesSnapshot(dir, nodes);
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
