/** The pod worker runs containers with their env, volumes and commands (harness.ts). */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createPodHarness, phase, script } from './harness.js';
import type { PodHarness } from './harness.js';

let harness: PodHarness;
beforeAll(async () => {
  harness = await createPodHarness();
});
afterEach(() => harness.stopAll());
afterAll(() => harness.close());
const start = (...args: Parameters<PodHarness['start']>) => harness.start(...args);

describe('PodWorker', () => {
  it('runs an init container, then the containers, with env, files and a shared emptyDir', async () => {
    const { api, podDir } = start(
      {
        restartPolicy: 'Never',
        volumes: [
          { name: 'shared', emptyDir: {} },
          { name: 'conf', configMap: { name: 'conf' } },
        ],
        initContainers: [
          script(
            'prepare',
            'require("fs").writeFileSync(process.argv[1] + "/ready.txt", process.env.TOKEN)',
            {
              args: ['/shared'],
              env: [
                { name: 'TOKEN', valueFrom: { secretKeyRef: { name: 'creds', key: 'token' } } },
              ],
              volumeMounts: [{ name: 'shared', mountPath: '/shared' }],
            },
          ),
        ],
        containers: [
          script(
            'main',
            `const fs = require("fs");
           console.log(JSON.stringify({
             fromInit: fs.readFileSync(process.argv[1], "utf8"),
             conf: fs.readFileSync(process.env.CONF, "utf8"),
             viaRoot: fs.readFileSync(process.env.FATHOM_POD_ROOT + ["", "etc", "conf", "greeting"].join("/") /* a literal would be rewritten too */, "utf8"),
             podIP: process.env.POD_IP,
             name: process.env.MY_NAME,
             api: process.env.KUBERNETES_SERVICE_HOST,
             cwd: process.cwd(),
           }));`,
            {
              args: ['/data/ready.txt'],
              workingDir: '/data',
              env: [
                { name: 'CONF', value: '/etc/conf/greeting' },
                { name: 'MY_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
              ],
              volumeMounts: [
                { name: 'shared', mountPath: '/data' },
                { name: 'conf', mountPath: '/etc/conf', readOnly: true },
              ],
            },
          ),
        ],
      },
      {
        secrets: [
          {
            metadata: { name: 'creds' },
            data: { token: Buffer.from('s3cr3t').toString('base64') },
          },
        ],
        configMaps: [{ metadata: { name: 'conf' }, data: { greeting: 'hello' } }],
      },
    );

    const done = await api.until(phase('Succeeded'), 'Succeeded');
    expect(done.initContainerStatuses![0]!.state.terminated).toMatchObject({
      exitCode: 0,
      reason: 'Completed',
    });
    expect(done.containerStatuses[0]!.state.terminated).toMatchObject({
      exitCode: 0,
      reason: 'Completed',
    });
    expect(done.podIP).toBe('127.0.42.7');
    const out = JSON.parse(await readFile(join(podDir, 'main.log'), 'utf8'));
    expect(out).toEqual({
      fromInit: 's3cr3t',
      conf: 'hello',
      viaRoot: 'hello',
      podIP: '127.0.42.7',
      name: 'p1',
      api: '127.0.0.1',
      cwd: join(podDir, 'volumes', 'shared'),
    });
    // The statuses went Pending → Running → Succeeded, never backwards.
    const phases = api.statuses.map((s) => s.phase).filter((p, i, all) => p !== all[i - 1]);
    expect(phases).toEqual(['Pending', 'Running', 'Succeeded']);
  });

  it('mounts a single ConfigMap key with subPath, and an emptyDir subPath made on first use', async () => {
    const { api, podDir } = start(
      {
        restartPolicy: 'Never',
        volumes: [
          { name: 'conf', configMap: { name: 'conf' } },
          { name: 'scratch', emptyDir: {} },
        ],
        containers: [
          script(
            'c',
            'const fs = require("fs"); fs.writeFileSync(process.argv[2] + "/x", "y"); console.log(fs.readFileSync(process.argv[1], "utf8"))',
            {
              args: ['/etc/app.conf', '/scratch'],
              volumeMounts: [
                { name: 'conf', mountPath: '/etc/app.conf', subPath: 'app.conf' },
                { name: 'scratch', mountPath: '/scratch', subPath: 'deep/er' },
              ],
            },
          ),
        ],
      },
      { configMaps: [{ metadata: { name: 'conf' }, data: { 'app.conf': 'key=value' } }] },
    );
    await api.until(phase('Succeeded'), 'Succeeded');
    expect((await readFile(join(podDir, 'c.log'), 'utf8')).trim()).toBe('key=value');
    expect(await readFile(join(podDir, 'volumes', 'scratch', 'deep', 'er', 'x'), 'utf8')).toBe('y');
  });

  it('reports a command that is not there as StartError, exit 128', async () => {
    const { api } = start({
      restartPolicy: 'Never',
      containers: [{ name: 'c', image: 'x', command: ['no-such-command-here'] }],
    });
    const s = await api.until(phase('Failed'), 'Failed');
    expect(s.containerStatuses[0]!.state.terminated).toMatchObject({
      exitCode: 128,
      reason: 'StartError',
      message: 'exec: "no-such-command-here": executable file not found in $PATH',
    });
  });

  it('waits with CreateContainerConfigError until a missing Secret appears, retrying on the clock', async () => {
    const { api, clock } = start({
      restartPolicy: 'Never',
      containers: [
        script('c', 'console.log(process.env.X)', {
          env: [{ name: 'X', valueFrom: { secretKeyRef: { name: 'late', key: 'x' } } }],
        }),
      ],
    });
    const stuck = await api.until(
      (s) => s.containerStatuses[0]!.state.waiting?.reason === 'CreateContainerConfigError',
      'CreateContainerConfigError',
    );
    expect(stuck.containerStatuses[0]!.state.waiting?.message).toBe('secret "late" not found');
    expect(clock.pendingDelays()).toEqual([500]);
    api.secrets.set('late', {
      metadata: { name: 'late' },
      data: { x: Buffer.from('now').toString('base64') },
    });
    await clock.advance(500);
    await api.until(phase('Succeeded'), 'Succeeded');
  });

  it('writes projected service-account files and points FATHOM_SERVICEACCOUNT_DIR at them', async () => {
    const { api, podDir } = start(
      {
        restartPolicy: 'Never',
        volumes: [
          {
            name: 'kube-api-access-abcde',
            projected: {
              sources: [
                { serviceAccountToken: { path: 'token', expirationSeconds: 3607 } },
                {
                  configMap: {
                    name: 'kube-root-ca.crt',
                    items: [{ key: 'ca.crt', path: 'ca.crt' }],
                  },
                },
                {
                  downwardAPI: {
                    items: [{ path: 'namespace', fieldRef: { fieldPath: 'metadata.namespace' } }],
                  },
                },
              ],
            },
          },
        ],
        containers: [
          script(
            'c',
            `const fs = require("fs"); const d = process.env.FATHOM_SERVICEACCOUNT_DIR;
           console.log(["token", "ca.crt", "namespace"].map((f) => fs.readFileSync(d + "/" + f, "utf8")).join(","))`,
            {
              volumeMounts: [
                {
                  name: 'kube-api-access-abcde',
                  mountPath: '/var/run/secrets/kubernetes.io/serviceaccount',
                  readOnly: true,
                },
              ],
            },
          ),
        ],
      },
      { configMaps: [{ metadata: { name: 'kube-root-ca.crt' }, data: { 'ca.crt': 'CA PEM' } }] },
    );
    await api.until(phase('Succeeded'), 'Succeeded');
    expect((await readFile(join(podDir, 'c.log'), 'utf8')).trim()).toBe('a.jwt.token,CA PEM,ns');
    expect(api.tokens).toEqual([{ expirationSeconds: 3607 }]);
  });
});
