import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRewriter, findExecutable, mountTargets, rootLinks } from './paths.js';
import type { Pod } from './types.js';

const pod: Pod = {
  metadata: { name: 'p', namespace: 'ns' },
  spec: {
    volumes: [
      { name: 'results', emptyDir: {} },
      { name: 'outer', emptyDir: {} },
      { name: 'root', hostPath: { path: '/' } },
      { name: 'cfg', configMap: { name: 'cfg' } },
    ],
    containers: [
      {
        name: 'c',
        volumeMounts: [
          { name: 'results', mountPath: '/tmp/sonobuoy/results/' },
          { name: 'outer', mountPath: '/tmp/sonobuoy' },
          { name: 'root', mountPath: '/node' },
          { name: 'cfg', mountPath: '/etc/cfg', subPath: 'a' },
          { name: 'nope', mountPath: '/nope' },
        ],
      },
    ],
  },
};
const podDir = '/w/pods/ns_p';
const mounts = mountTargets(pod, pod.spec.containers[0]!, podDir);

describe('mountTargets', () => {
  it('maps each mount to its volume dir, hostPath to itself, subPath appended; unknown volumes left out', () => {
    expect(mounts).toEqual([
      { mountPath: '/tmp/sonobuoy/results', target: `${podDir}/volumes/results`, hostPath: false },
      { mountPath: '/tmp/sonobuoy', target: `${podDir}/volumes/outer`, hostPath: false },
      { mountPath: '/node', target: '/', hostPath: true },
      { mountPath: '/etc/cfg', target: `${podDir}/volumes/cfg/a`, hostPath: false },
    ]);
  });
});

describe('createRewriter', () => {
  const rewrite = createRewriter(mounts);

  it.each([
    ['/tmp/sonobuoy/results/done', `${podDir}/volumes/results/done`],
    ['/tmp/sonobuoy/results', `${podDir}/volumes/results`],
    ['/tmp/sonobuoy/config.json', `${podDir}/volumes/outer/config.json`],
    ['--results-dir=/tmp/sonobuoy/results', `--results-dir=${podDir}/volumes/results`],
    ['/etc/cfg/x.yaml', `${podDir}/volumes/cfg/a/x.yaml`],
    ['/node/var/log', '/var/log'],
    ['/node', '/'],
    ['PATH=/bin:/tmp/sonobuoy/bin', `PATH=/bin:${podDir}/volumes/outer/bin`],
    [
      'cat /tmp/sonobuoy/results/out > "/tmp/sonobuoy/results/done"',
      `cat ${podDir}/volumes/results/out > "${podDir}/volumes/results/done"`,
    ],
  ])('rewrites %s', (text, expected) => {
    expect(rewrite(text)).toBe(expected);
  });

  it.each([
    '/tmp/sonobuoyX/a', // not a path component boundary
    'https://host/tmp/sonobuoy/results', // inside a URL
    'x/tmp/sonobuoy',
    '/etc/cfgs',
    '/nope/a', // a mount of an unknown volume
    'plain text',
  ])('leaves %s alone', (text) => {
    expect(rewrite(text)).toBe(text);
  });

  it('never rewrites a mount at /', () => {
    const r = createRewriter([{ mountPath: '/', target: '/elsewhere', hostPath: false }]);
    expect(r('/etc/passwd')).toBe('/etc/passwd');
  });
});

describe('rootLinks', () => {
  it('links shortest first and skips anything under a hostPath mount', () => {
    const withNested = [
      ...mounts,
      { mountPath: '/node/inner', target: '/w/pods/ns_p/volumes/x', hostPath: false },
    ];
    expect(rootLinks(withNested, '/r').map((l) => [l.link, l.target])).toEqual([
      ['/r/node', '/'],
      ['/r/etc/cfg', `${podDir}/volumes/cfg/a`],
      ['/r/tmp/sonobuoy', `${podDir}/volumes/outer`],
      ['/r/tmp/sonobuoy/results', `${podDir}/volumes/results`],
    ]);
  });
});

describe('findExecutable', () => {
  let dir: string;
  let shims: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'podrunner-paths-'));
    shims = join(dir, 'shims');
    await writeFile(join(dir, 'tool'), '#!/bin/sh\n');
    await chmod(join(dir, 'tool'), 0o755);
    await writeFile(join(dir, 'data'), 'not a program');
    await mkdir(shims);
    await writeFile(join(shims, 'fathom'), '#!/bin/sh\n');
    await chmod(join(shims, 'fathom'), 0o755);
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('finds a bare name in the search dirs, in order, executables only', async () => {
    expect(await findExecutable('tool', ['/nonexistent', dir], [])).toBe(join(dir, 'tool'));
    expect(await findExecutable('data', [dir], [])).toBeUndefined();
    expect(await findExecutable('fathom', [shims, dir], [shims])).toBe(join(shims, 'fathom'));
  });

  it('uses an existing path as is, and maps a missing absolute one to its base name in the prepended dirs', async () => {
    expect(await findExecutable(join(dir, 'tool'), [], [])).toBe(join(dir, 'tool'));
    expect(await findExecutable('/usr/local/bin/fathom', [dir], [shims])).toBe(
      join(shims, 'fathom'),
    );
    expect(await findExecutable('/usr/local/bin/tool', [dir], [shims])).toBeUndefined();
    expect(await findExecutable('./tool', [dir], [shims])).toBeUndefined();
  });
});
