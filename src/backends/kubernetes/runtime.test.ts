/**
 * The status annotation writer against a real HTTP server standing in for the API server: a
 * write the server cannot take (refused connections, 503) is tried again with backoff on the
 * injected clock until it goes through; RBAC and missing pods fail at once; an abort stops it.
 * And what `launch` sends for a run's plugins.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';
import { afterEach, describe, expect, it } from 'vitest';
import type { RunStatus } from '../../aggregation/types.js';
import { ManualClock } from '../../core/clock.js';
import { isFathomError } from '../../core/errors.js';
import { createKubeClient, type KubeClient } from './api/client.js';
import { STATUS_ANNOTATION } from './names.js';
import { pino } from 'pino';
import { parsePluginDocuments } from '../../plugin/loader.js';
import {
  createStatusAnnotationWriter,
  KubernetesPluginRuntime,
  readStatusAnnotation,
} from './runtime.js';
import type { Pod } from './api/types.js';

const status = (phase: RunStatus['status']): RunStatus => ({
  plugins: [
    {
      plugin: 'e2e',
      node: 'global',
      status: 'complete',
      'result-status': '',
      'result-counts': null,
    },
  ],
  status: phase,
  'tar-info': { name: '', created: '0001-01-01T00:00:00Z', sha256: '', size: 0 },
});

interface Received {
  method: string;
  url: string;
  contentType: string | undefined;
  body: string;
}

let server: Server | undefined;
let client: KubeClient | undefined;

afterEach(async () => {
  client?.close();
  if (server) await new Promise((r) => server!.close(r));
  server = client = undefined;
});

/** A server that answers the n-th request with `answers[n]` (the last one repeats). */
async function apiServer(
  answers: ((req: IncomingMessage, res: ServerResponse) => void)[],
): Promise<{ received: Received[]; client: KubeClient }> {
  const received: Received[] = [];
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      received.push({
        method: req.method!,
        url: req.url!,
        contentType: req.headers['content-type'],
        body,
      });
      answers[Math.min(received.length, answers.length) - 1]!(req, res);
    });
  });
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromOptions({
    clusters: [{ name: 'c', server: url, skipTLSVerify: true }],
    users: [{ name: 'u' }],
    contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
    currentContext: 'x',
  });
  client = createKubeClient({ kubeConfig, server: url, requestTimeoutMs: 0 });
  return { received, client };
}

const answer =
  (code: number, reason = '') =>
  (_req: IncomingMessage, res: ServerResponse): void => {
    res.writeHead(code, { 'content-type': 'application/json' });
    res.end(
      JSON.stringify(
        code < 400
          ? { kind: 'Pod', metadata: { name: 'fathom-aggregator' } }
          : { kind: 'Status', status: 'Failure', code, reason, message: `answered ${code}` },
      ),
    );
  };
/** Drops the connection without an answer, as a dying API server does. */
const hangUp = (req: IncomingMessage): void => void req.socket.destroy();

describe('createStatusAnnotationWriter', () => {
  it('patches the annotation on its own pod, trying again until the API server takes it', async () => {
    const { received, client } = await apiServer([
      hangUp,
      answer(503, 'ServiceUnavailable'),
      answer(200),
    ]);
    const clock = new ManualClock();
    const write = createStatusAnnotationWriter({
      client,
      namespace: 'conformance',
      pod: 'fathom-aggregator',
      clock,
    });
    let done = false;
    const writing = write(status('complete')).then(() => (done = true));
    await clock.whenSleeping();
    expect(clock.pendingDelays()).toEqual([500]);
    await clock.advance(500);
    await clock.whenSleeping();
    expect(clock.pendingDelays()).toEqual([1000]); // backing off
    expect(done).toBe(false);
    await clock.advance(1000);
    await writing;
    expect(received).toHaveLength(3);
    for (const r of received) {
      expect([r.method, r.url, r.contentType]).toEqual([
        'PATCH',
        '/api/v1/namespaces/conformance/pods/fathom-aggregator',
        'application/merge-patch+json',
      ]);
    }
    // The write that went through carries the status, readable as `fathom status` reads it.
    const patch = JSON.parse(received[2]!.body) as Pod;
    expect(patch.metadata.annotations?.[STATUS_ANNOTATION]).toBeDefined();
    expect(readStatusAnnotation(patch)?.status).toBe('complete');
  });

  it.each([
    [403, 'Forbidden', 'FATHOM_KUBE_FORBIDDEN'],
    [404, 'NotFound', 'FATHOM_KUBE_NOT_FOUND'],
  ])('fails at once on %i, which trying again cannot fix', async (code, reason, fathomCode) => {
    const { received, client } = await apiServer([answer(code, reason)]);
    const clock = new ManualClock();
    const write = createStatusAnnotationWriter({ client, namespace: 'n', pod: 'p', clock });
    const err: unknown = await write(status('running')).catch((e: unknown) => e);
    expect(isFathomError(err) && err.code).toBe(fathomCode);
    expect(received).toHaveLength(1);
    expect(clock.pending).toBe(0);
  });

  it('stops trying when its signal aborts', async () => {
    const { received, client } = await apiServer([answer(503, 'ServiceUnavailable')]);
    const clock = new ManualClock();
    const stop = new AbortController();
    const write = createStatusAnnotationWriter({
      client,
      namespace: 'n',
      pod: 'p',
      clock,
      signal: stop.signal,
    });
    const writing = write(status('running')).catch((e: unknown) => e);
    await clock.whenSleeping();
    stop.abort(new Error('aggregator stopped'));
    expect(((await writing) as Error).message).toBe('aggregator stopped');
    expect(received).toHaveLength(1);
  });
});

/** A runtime for the run `0123abcd-…` in namespace fathom, talking to `client`. */
function runtimeFor(client: KubeClient): KubernetesPluginRuntime {
  return new KubernetesPluginRuntime({
    client,
    config: {
      uuid: '0123abcd-4567-89ef-0123-456789abcdef',
      namespace: 'fathom',
      image: 'fathom:test',
      imagePullPolicy: 'IfNotPresent',
      kubernetesVersion: 'v1.36.3',
    },
    owner: { name: 'fathom-aggregator', uid: 'uid-1' },
    clock: new ManualClock(),
    logger: pino({ level: 'silent' }),
  });
}

describe('KubernetesPluginRuntime.launch', () => {
  it('gives each host-network plugin its own progress port, so relays on one node do not collide', async () => {
    const { received, client } = await apiServer([answer(201)]);
    const runtime = runtimeFor(client);
    const plugins = parsePluginDocuments(
      [
        'sonobuoy-config: {driver: DaemonSet, plugin-name: logs, result-format: raw}',
        'spec: {name: plugin, image: i, command: [sh]}',
        '---',
        'sonobuoy-config: {driver: Job, plugin-name: e2e, result-format: junit}',
        'spec: {name: plugin, image: i, command: [sh]}',
        '---',
        'sonobuoy-config: {driver: DaemonSet, plugin-name: inventory, result-format: manual}',
        'spec: {name: plugin, image: i, command: [sh]}',
      ].join('\n'),
      'plugins.yaml',
    ).plugins;
    const context = {
      runId: 'run',
      aggregatorUrl: 'https://10.0.0.1:8080',
      caPem: 'ca',
      clientCert: { certPem: 'cert', keyPem: 'key' },
      nodes: [],
    };
    for (const p of plugins) await runtime.launch(p, context);
    const ports = received
      .filter((r) => !r.url.includes('/secrets'))
      .map((r) => {
        const obj = JSON.parse(r.body) as {
          metadata: { name: string };
          spec: { containers?: Container[]; template?: { spec: { containers: Container[] } } };
        };
        const containers = obj.spec.template?.spec.containers ?? obj.spec.containers ?? [];
        const env = (c: Container): string | undefined =>
          c.env.find((e) => e.name === 'SONOBUOY_PROGRESS_PORT')?.value;
        return `${obj.metadata.name.split('-')[1]}:${containers.map(env).join(',')}`;
      });
    expect(ports).toEqual(['logs:8099,8099', 'e2e:8099,8099', 'inventory:8100,8100']);
  });
});

describe('KubernetesPluginRuntime.renewCredentials', () => {
  it("patches the plugin's Secret with the renewed CA and client pair", async () => {
    const { received, client } = await apiServer([answer(200)]);
    const runtime = runtimeFor(client);
    const [plugin] = parsePluginDocuments(
      'sonobuoy-config: {driver: Job, plugin-name: e2e, result-format: junit}\nspec: {name: plugin, image: i, command: [sh]}',
      'e2e.yaml',
    ).plugins;
    await runtime.renewCredentials(plugin!, {
      caPem: 'CA2',
      clientCert: { certPem: 'CERT2', keyPem: 'KEY2' },
    });
    expect(received).toHaveLength(1);
    const b64 = (s: string): string => Buffer.from(s).toString('base64');
    expect(received[0]).toMatchObject({
      method: 'PATCH',
      url: '/api/v1/namespaces/fathom/secrets/fathom-plugin-e2e-0123abcd456789ef',
      contentType: 'application/merge-patch+json',
    });
    expect(JSON.parse(received[0]!.body)).toEqual({
      data: { 'ca.crt': b64('CA2'), 'tls.crt': b64('CERT2'), 'tls.key': b64('KEY2') },
    });
  });
});

interface Container {
  env: { name: string; value?: string }[];
}
