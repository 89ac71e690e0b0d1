import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { isFathomError } from '../core/errors.js';
import { createRunCa } from '../core/pki.js';
import { writeTlsDir } from '../core/tls-files.js';
import { loadWorkerConfig, progressPath, resultPath } from './config.js';
import type { Env, WorkerMode } from './config.js';

let base: Record<string, string>;

beforeAll(async () => {
  const ca = await createRunCa({ now: Date.now() });
  const client = await ca.clientCert('e2e');
  base = {
    AGGREGATOR_URL: 'https://10.0.0.5:8080',
    RESULT_TYPE: 'e2e',
    NODE_NAME: 'node-1',
    CA_CERT: ca.caPem,
    CLIENT_CERT: client.certPem,
    CLIENT_KEY: client.keyPem,
  };
});

function failure(env: Env, mode: WorkerMode = 'global'): { message: string; variable: unknown } {
  try {
    loadWorkerConfig(mode, env);
  } catch (err) {
    if (!isFathomError(err, 'FATHOM_CONFIG_INVALID')) throw err;
    return { message: err.message, variable: err.details.variable };
  }
  throw new Error('expected FATHOM_CONFIG_INVALID');
}

describe('loadWorkerConfig: FATHOM_TLS_DIR', () => {
  it('reads the CA and client pair from the directory, ahead of the env variables', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'fathom-worker-tls-'));
    try {
      const ca = await createRunCa({ now: Date.now() });
      const client = await ca.clientCert('e2e');
      await writeTlsDir(dir, { caPem: ca.caPem, ...client });
      const { CA_CERT: _ca, CLIENT_CERT: _cert, CLIENT_KEY: _key, ...noPems } = base;
      for (const env of [noPems, base]) {
        expect(loadWorkerConfig('global', { ...env, FATHOM_TLS_DIR: dir })).toMatchObject({
          tlsDir: dir,
          caPem: ca.caPem,
          clientCertPem: client.certPem,
          clientKeyPem: client.keyPem,
        });
      }
      expect(loadWorkerConfig('global', base).tlsDir).toBeUndefined();
      expect(failure({ ...noPems, FATHOM_TLS_DIR: join(dir, 'none') }).variable).toBe(
        'FATHOM_TLS_DIR',
      );
      expect(failure({ ...noPems, FATHOM_TLS_DIR: 'relative' }).variable).toBe('FATHOM_TLS_DIR');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('loadWorkerConfig', () => {
  it("applies Sonobuoy's defaults and freezes the result", () => {
    const cfg = loadWorkerConfig('global', base);
    expect(cfg).toMatchObject({
      mode: 'global',
      aggregatorUrl: 'https://10.0.0.5:8080',
      pluginName: 'e2e',
      nodeName: 'node-1',
      resultsDir: '/tmp/sonobuoy/results',
      progressPort: 8099,
      doneFileDelayMs: 5_000,
      pollIntervalMs: 1_000,
      workerContainer: 'sonobuoy-worker',
    });
    expect(cfg.podStatusFile).toBeUndefined();
    expect(Object.isFrozen(cfg)).toBe(true);
  });

  it('reads every variable it knows', () => {
    const cfg = loadWorkerConfig('single-node', {
      ...base,
      AGGREGATOR_URL: 'https://[fd00::1]:8080/',
      SONOBUOY_RESULTS_DIR: '/data/results/',
      RESULTS_DIR: '/ignored',
      SONOBUOY_PROGRESS_PORT: '0',
      SONOBUOY_DONE_FILE_DELAY: '0s',
      FATHOM_POLL_INTERVAL: '250ms',
      FATHOM_POD_STATUS_FILE: '/run/pod.json',
      SONOBUOY_WORKER_CONTAINER: 'worker',
    });
    expect(cfg).toMatchObject({
      aggregatorUrl: 'https://[fd00::1]:8080',
      resultsDir: '/data/results',
      progressPort: 0,
      doneFileDelayMs: 0,
      pollIntervalMs: 250,
      podStatusFile: '/run/pod.json',
      workerContainer: 'worker',
    });
  });

  it('falls back to RESULTS_DIR', () => {
    expect(loadWorkerConfig('global', { ...base, RESULTS_DIR: '/tmp/results' }).resultsDir).toBe(
      '/tmp/results',
    );
  });

  it('builds the result and progress paths per mode', () => {
    const global = loadWorkerConfig('global', base);
    const node = loadWorkerConfig('single-node', { ...base, RESULT_TYPE: 'systemd-logs' });
    expect(resultPath(global)).toBe('/api/v1/results/global/e2e');
    expect(progressPath(global)).toBe('/api/v1/progress/global/e2e');
    expect(resultPath(node)).toBe('/api/v1/results/by-node/node-1/systemd-logs');
    expect(progressPath(node)).toBe('/api/v1/progress/by-node/node-1/systemd-logs');
  });

  it.each([
    ['AGGREGATOR_URL', undefined, 'AGGREGATOR_URL: required (the aggregator base URL) but not set'],
    ['AGGREGATOR_URL', 'not a url', 'AGGREGATOR_URL: "not a url" is not a URL'],
    ['AGGREGATOR_URL', 'http://x:8080', 'AGGREGATOR_URL: "http://x:8080" must use https'],
    ['AGGREGATOR_URL', 'https://x/api', 'AGGREGATOR_URL: "https://x/api" must be just https'],
    ['RESULT_TYPE', undefined, 'RESULT_TYPE: required (plugin name) but not set'],
    ['RESULT_TYPE', '../etc', 'RESULT_TYPE: "../etc" is not a valid plugin name'],
    ['RESULT_TYPE', 'a/b', 'RESULT_TYPE: "a/b" is not a valid plugin name'],
    ['CA_CERT', '', 'CA_CERT: required'],
    ['CA_CERT', 'garbage', 'CA_CERT: not a PEM certificate'],
    ['CLIENT_CERT', 'garbage', 'CLIENT_CERT: not a PEM certificate'],
    ['CLIENT_KEY', 'garbage', 'CLIENT_KEY: not a PEM private key'],
    ['SONOBUOY_PROGRESS_PORT', '70000', 'SONOBUOY_PROGRESS_PORT: "70000" is not a TCP port'],
    ['SONOBUOY_PROGRESS_PORT', 'http', 'SONOBUOY_PROGRESS_PORT: "http" is not a TCP port'],
    ['SONOBUOY_DONE_FILE_DELAY', 'soon', 'SONOBUOY_DONE_FILE_DELAY: "soon" is not a duration'],
    ['FATHOM_POLL_INTERVAL', '0s', 'FATHOM_POLL_INTERVAL: "0s" must be greater than zero'],
    ['SONOBUOY_RESULTS_DIR', 'relative/dir', 'SONOBUOY_RESULTS_DIR: "relative/dir" must be an'],
  ])('rejects %s=%j', (variable, value, message) => {
    const err = failure({ ...base, [variable]: value });
    expect(err.message.startsWith(message)).toBe(true);
    expect(err.variable).toBe(variable);
  });

  it('needs NODE_NAME in single-node mode only', () => {
    const env = { ...base, NODE_NAME: undefined };
    expect(loadWorkerConfig('global', env).nodeName).toBe('');
    expect(failure(env, 'single-node').message).toBe('NODE_NAME: required (node name) but not set');
    expect(failure({ ...base, NODE_NAME: 'a/../b' }, 'single-node').variable).toBe('NODE_NAME');
  });
});
