import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isFathomError } from '../../../core/errors.js';
import { checksManifests, configsConfigMap } from './manifests.js';
import { checksSpec } from './options.js';
import { kindPath } from '../objects.js';
import { checksRefs, readConfigsDir } from './up.js';

const secrets = { token: 't', caPem: 'c', certPem: 'p', keyPem: 'k' };

describe('checks up/down', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'fathom-checks-up-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('down removes every object up applies, and the Lease the replicas make', () => {
    const spec = checksSpec({ namespace: 'mon' });
    const made = [...checksManifests(spec, secrets), configsConfigMap(spec, {})]
      .filter((o) => o.kind !== 'Namespace')
      .map((o) => `${o.kind} ${o.metadata.namespace ?? ''} ${o.metadata.name}`)
      .sort();
    const refs = checksRefs('mon').map((r) => `${r.kind} ${r.namespace ?? ''} ${r.name}`);
    expect([...refs].sort()).toEqual([...made, 'Lease mon fathom-checks'].sort());
    // Workloads go first, so their pods stop before the Secrets they mount go away.
    expect(refs.slice(0, 2)).toEqual([
      'DaemonSet mon fathom-checks-agent',
      'Deployment mon fathom-checks-dispatcher',
    ]);
    expect(kindPath(checksRefs('mon')[0]!)).toBe(
      '/apis/apps/v1/namespaces/mon/daemonsets/fathom-checks-agent',
    );
    expect(kindPath({ kind: 'ClusterRole', name: 'x', namespace: 'mon' })).toBe(
      '/apis/rbac.authorization.k8s.io/v1/clusterroles/x',
    );
  });

  it('turns a directory of check files into ConfigMap data, each file checked first', async () => {
    const good = join(dir, 'good');
    await rm(good, { recursive: true, force: true });
    await mkdir(good);
    await writeFile(join(good, 'a.yaml'), 'name: a\ntype: command\ninstances: [{command: [x]}]\n');
    await writeFile(join(good, 'b.yml'), 'name: b\ntype: tcp\ninstances: [{host: h, port: 1}]\n');
    await writeFile(join(good, 'notes.txt'), 'not a check');
    expect(Object.keys(await readConfigsDir(good))).toEqual(['a.yaml', 'b.yml']);

    await writeFile(
      join(good, 'c.yaml'),
      'name: c\ntype: tcp\ninstances: [{host: h, port: nope}]\n',
    );
    const err = await readConfigsDir(good).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isFathomError(err)).toBe(true);
    expect((err as Error).message).toContain(join(good, 'c.yaml'));
    expect((err as Error).message).toMatch(/port/);

    const missing = await readConfigsDir(join(dir, 'none')).catch((e: unknown) => e);
    expect(isFathomError(missing, 'FATHOM_CONFIG_INVALID')).toBe(true);
  });
});
