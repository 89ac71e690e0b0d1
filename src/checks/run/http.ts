/**
 * `http`: one request over node:http(s) (not fetch: the TLS settings and the peer certificate
 * are ours), its status, latency, body and certificate.
 */
import { request as httpRequest, type IncomingMessage, type RequestOptions } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { rootCertificates, type TLSSocket } from 'node:tls';
import { MiB, readFileAtMost } from '../../core/bounded.js';
import { FathomError, messageOf } from '../../core/errors.js';
import type { HttpInstance } from '../instances.js';
import { outcomeOf, type Finding, type RunContext, type RunOutcome } from './types.js';

/** The body a `body_regex` sees: its first MiB. */
export const MAX_BODY_BYTES = MiB;
export const DEFAULT_CERT_DAYS_WARNING = 14;
export const DEFAULT_CERT_DAYS_CRITICAL = 7;
const DAY_MS = 86_400_000;

interface Response {
  readonly status: number;
  readonly latencyMs: number;
  /** The certificate's end of validity, ms since the epoch (https only). */
  readonly certNotAfter?: number;
  readonly body?: string;
}

async function caList(file: string): Promise<string[]> {
  let pem: Buffer | undefined;
  try {
    pem = await readFileAtMost(file, MiB);
  } catch (err) {
    throw new FathomError('FATHOM_CONFIG_INVALID', `ca_file ${file}: ${messageOf(err)}`, {
      details: { field: 'ca_file', file },
    });
  }
  if (!pem) {
    throw new FathomError('FATHOM_CONFIG_INVALID', `ca_file ${file}: over 1 MiB`, {
      details: { field: 'ca_file', file },
    });
  }
  return [...rootCertificates, pem.toString('utf8')];
}

function readBody(res: IncomingMessage, limit: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    let size = 0;
    const done = (): void => resolve(Buffer.concat(parts, size).toString('utf8'));
    res.on('data', (chunk: Buffer) => {
      const part = chunk.subarray(0, limit - size);
      parts.push(part);
      size += part.length;
      if (size >= limit) {
        // Enough to judge: the rest is never read.
        res.removeAllListeners('data');
        res.destroy();
        done();
      }
    });
    res.on('end', done);
    // A connection cut mid-body: judge what came.
    res.on('close', done);
    res.on('error', reject);
  });
}

async function fetchOnce(instance: HttpInstance, ctx: RunContext): Promise<Response> {
  const url = new URL(instance.url);
  const tls = url.protocol === 'https:';
  if (!tls && url.protocol !== 'http:') {
    throw new FathomError('FATHOM_CONFIG_INVALID', `url ${instance.url}: not an http(s) URL`, {
      details: { field: 'url' },
    });
  }
  const options: RequestOptions & Record<string, unknown> = {
    method: instance.method ?? 'GET',
    headers: { 'user-agent': 'fathom-check', ...instance.headers },
    // A fresh connection each run: its latency and certificate are what is measured.
    agent: false,
    signal: ctx.signal,
  };
  if (tls) {
    options.rejectUnauthorized = instance.tls_verify ?? true;
    if (instance.ca_file !== undefined) options.ca = await caList(instance.ca_file);
  }
  const started = ctx.clock.now();
  return new Promise<Response>((resolve, reject) => {
    const req = (tls ? httpsRequest : httpRequest)(url, options, (res) => {
      const latencyMs = ctx.clock.now() - started;
      let certNotAfter: number | undefined;
      if (tls) {
        const cert = (res.socket as TLSSocket).getPeerCertificate();
        const end = cert?.valid_to ? Date.parse(cert.valid_to) : NaN;
        if (Number.isFinite(end)) certNotAfter = end;
      }
      const base = {
        status: res.statusCode ?? 0,
        latencyMs,
        ...(certNotAfter !== undefined ? { certNotAfter } : {}),
      };
      if (instance.body_regex === undefined) {
        res.destroy();
        resolve(base);
        return;
      }
      readBody(res, MAX_BODY_BYTES).then((body) => resolve({ ...base, body }), reject);
    });
    req.on('error', reject);
    req.end(instance.body);
  });
}

function okStatus(instance: HttpInstance, status: number): boolean {
  return instance.expect_status
    ? instance.expect_status.includes(status)
    : status >= 200 && status <= 399;
}

export async function runHttp(instance: HttpInstance, ctx: RunContext): Promise<RunOutcome> {
  const url = instance.url;
  let res: Response;
  try {
    res = await fetchOnce(instance, ctx);
  } catch (err) {
    if (ctx.signal.aborted) throw err;
    return { status: 'critical', message: `${url}: ${messageOf(err)}`, metrics: {} };
  }
  const metrics: Record<string, number> = { latency_ms: res.latencyMs, status_code: res.status };
  const findings: Finding[] = [];
  if (!okStatus(instance, res.status)) {
    findings.push({ status: 'critical', message: `HTTP ${res.status} from ${url}` });
  }
  if (res.body !== undefined && !new RegExp(instance.body_regex!).test(res.body)) {
    findings.push({
      status: 'critical',
      message: `body of ${url} does not match /${instance.body_regex}/`,
    });
  }
  if (res.certNotAfter !== undefined) {
    const days = Math.floor((res.certNotAfter - ctx.clock.now()) / DAY_MS);
    metrics.cert_days_left = days;
    const critical = instance.cert_days_critical ?? DEFAULT_CERT_DAYS_CRITICAL;
    const warning = instance.cert_days_warning ?? DEFAULT_CERT_DAYS_WARNING;
    const when = days < 0 ? `expired ${-days} days ago` : `expires in ${days} days`;
    if (days <= critical)
      findings.push({ status: 'critical', message: `certificate of ${url} ${when}` });
    else if (days <= warning)
      findings.push({ status: 'warning', message: `certificate of ${url} ${when}` });
  }
  if (instance.latency_warning_ms !== undefined && res.latencyMs > instance.latency_warning_ms) {
    findings.push({
      status: 'warning',
      message: `${url} answered in ${res.latencyMs} ms, over ${instance.latency_warning_ms} ms`,
    });
  }
  return outcomeOf(findings, metrics);
}
