/**
 * `fathom retrieve`: the finished tarball from the aggregator pod's results listener, written
 * under its own name once its size and sha256 match what the run's status reports.
 */
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import type { IncomingMessage } from 'node:http';
import https from 'node:https';
import { join, resolve } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { TarInfo } from '../../aggregation/types.js';
import { FathomError, isFathomError } from '../../core/errors.js';
import { resourcePath, type KubeClient } from './api/client.js';
import { apiError } from './api/errors.js';
import {
  AGGREGATOR_POD,
  PARTIAL_NAME_HEADER,
  PARTIAL_PATH,
  PARTIAL_SHA_HEADER,
  RESULTS_PORT,
  RETRIEVE_TOKEN_HEADER,
} from './names.js';
import type { Pod } from './api/types.js';

function isLoopback(ip: string): boolean {
  return /^127\./.test(ip) || ip === '::1';
}

/** GET from a listener on this machine; its certificate comes from the run's own CA, so the token is the check. */
function directGet(
  ip: string,
  port: number,
  path: string,
  token: string,
  what: string,
): Promise<IncomingMessage> {
  return new Promise((resolveRes, reject) => {
    const req = https.get(
      {
        host: ip,
        port,
        path,
        rejectUnauthorized: false,
        headers: { [RETRIEVE_TOKEN_HEADER]: token },
      },
      (res) => {
        if ((res.statusCode ?? 500) < 400) return resolveRes(res);
        res.resume();
        reject(
          new FathomError(
            'FATHOM_KUBE_API_ERROR',
            `${what}: the results listener answered ${res.statusCode}`,
          ),
        );
      },
    );
    req.once('error', (err) => reject(apiError(err, what)));
  });
}

/** The `results` port the aggregator pod declares (the run's own choice). */
export function resultsPortOf(pod: Pod): number {
  const containers = (pod.spec?.containers ?? []) as {
    ports?: { name?: string; containerPort?: number }[];
  }[];
  for (const c of containers) {
    const p = c.ports?.find((port) => port.name === 'results');
    if (p?.containerPort) return p.containerPort;
  }
  return RESULTS_PORT;
}

/**
 * The tarball's bytes from the aggregator's results listener. Through the API server's pod
 * proxy: no exec and no port-forward (which need a kubelet's streaming), the same RBAC as
 * kubectl, and it works wherever the API server reaches pod IPs. The API server refuses to
 * proxy to loopback addresses; a pod with such an IP runs on this very machine (a local
 * kubelet stand-in), so fathom then connects to it directly.
 */
function openTarball(
  client: KubeClient,
  pod: Pod,
  name: string,
  token: string,
  path = `/results/${encodeURIComponent(name)}`,
): Promise<IncomingMessage> {
  const namespace = pod.metadata.namespace ?? '';
  const port = resultsPortOf(pod);
  const what = `downloading ${name} from Pod ${namespace}/${AGGREGATOR_POD}`;
  const ip = pod.status?.podIP ?? '';
  if (isLoopback(ip)) return directGet(ip, port, path, token, what);
  const proxy = `${resourcePath('', 'pods', namespace)}/https:${AGGREGATOR_POD}:${port}/proxy${path}`;
  return client.stream(proxy, what, { headers: { [RETRIEVE_TOKEN_HEADER]: token } });
}

/**
 * `retrieve --partial`: the aggregator packs what it accepted so far and names the tarball in
 * its answer; the size and digest it sends along are checked as for a finished run.
 */
export async function downloadPartial(
  client: KubeClient,
  pod: Pod,
  token: string,
  destDir: string,
): Promise<string> {
  const res = await openTarball(client, pod, 'a partial tarball', token, PARTIAL_PATH);
  const name = String(res.headers[PARTIAL_NAME_HEADER] ?? '');
  if (!/^[\w.-]+\.tar\.gz$/.test(name)) {
    res.resume();
    throw new FathomError(
      'FATHOM_RESULTS_INVALID',
      `the aggregator named its partial tarball ${JSON.stringify(name)}`,
    );
  }
  const tar: TarInfo = {
    name,
    created: '',
    sha256: String(res.headers[PARTIAL_SHA_HEADER] ?? ''),
    size: Number(res.headers['content-length'] ?? -1),
  };
  return save(res, tar, destDir);
}

/** Downloads the run's tarball into `destDir` and returns its path; nothing is left on failure. */
export async function downloadTarball(
  client: KubeClient,
  pod: Pod,
  tar: TarInfo,
  token: string,
  destDir: string,
): Promise<string> {
  return save(await openTarball(client, pod, tar.name, token), tar, destDir);
}

async function save(res: IncomingMessage, tar: TarInfo, destDir: string): Promise<string> {
  await mkdir(destDir, { recursive: true });
  const dest = resolve(destDir, tar.name);
  const part = join(destDir, `.${tar.name}.part`);
  const hash = createHash('sha256');
  let size = 0;
  const count = new Transform({
    transform(chunk: Buffer, _enc, done) {
      hash.update(chunk);
      size += chunk.length;
      done(null, chunk);
    },
  });
  try {
    await pipeline(res, count, createWriteStream(part));
    const sha256 = hash.digest('hex');
    if (sha256 !== tar.sha256 || size !== tar.size) {
      throw new FathomError(
        'FATHOM_RESULTS_INVALID',
        `${tar.name}: downloaded ${size} bytes with sha256 ${sha256}, but the run reports ${tar.size} bytes with ${tar.sha256}`,
      );
    }
    await rename(part, dest);
  } catch (err) {
    await rm(part, { force: true });
    if (isFathomError(err)) throw err;
    throw new FathomError(
      'FATHOM_KUBE_UNREACHABLE',
      `downloading ${tar.name}: the stream broke: ${String(err)}`,
      { cause: err },
    );
  }
  return dest;
}
