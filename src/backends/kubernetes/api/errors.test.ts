import { ApiException } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { FathomError } from '../../../core/errors.js';
import { apiError, isPermanent, KubeApiError, parseStatus } from './errors.js';

const status = (code: number, reason: string, message: string): string =>
  JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', code, reason, message });

const forbidden =
  'pods is forbidden: User "system:serviceaccount:x:y" cannot create resource "pods" in API group "" in the namespace "x"';
const quota =
  'pods "p" is forbidden: exceeded quota: compute, requested: pods=1, used: pods=2, limited: pods=2';

describe('apiError', () => {
  it.each([
    [401, 'Unauthorized', 'Unauthorized', 'FATHOM_KUBE_UNAUTHORIZED'],
    [403, 'Forbidden', forbidden, 'FATHOM_KUBE_FORBIDDEN'],
    [403, 'Forbidden', quota, 'FATHOM_KUBE_QUOTA'],
    [404, 'NotFound', 'pods "x" not found', 'FATHOM_KUBE_NOT_FOUND'],
    [
      409,
      'AlreadyExists',
      'roles.rbac.authorization.k8s.io "r" already exists',
      'FATHOM_KUBE_CONFLICT',
    ],
    [
      422,
      'Invalid',
      'Pod "p" is invalid: spec.containers[0].image: Required value',
      'FATHOM_KUBE_INVALID',
    ],
    [400, 'BadRequest', 'container "c" in pod "p" is waiting to start', 'FATHOM_KUBE_INVALID'],
    [429, 'TooManyRequests', 'too many requests', 'FATHOM_KUBE_API_ERROR'],
    [500, 'InternalError', 'etcdserver: request timed out', 'FATHOM_KUBE_API_ERROR'],
  ])(
    'maps %i %s to its code, keeping the reason and message on one line',
    (code, reason, message, want) => {
      const err = apiError(
        new KubeApiError(
          code,
          parseStatus(status(code, reason, message)),
          status(code, reason, message),
        ),
        'creating Pod x/p',
      );
      expect(err).toBeInstanceOf(FathomError);
      expect(err.code).toBe(want);
      expect(err.message).toBe(`creating Pod x/p: ${reason}: ${message}`);
      expect(err.details).toMatchObject({ object: 'creating Pod x/p', status: code, reason });
    },
  );

  it('folds a multi-line message into one line', () => {
    const text = status(422, 'Invalid', 'Pod "p" is invalid:\n* spec.a: bad\n* spec.b: bad');
    const err = apiError(new KubeApiError(422, parseStatus(text), text), 'creating Pod x/p');
    expect(err.message).toBe(
      'creating Pod x/p: Invalid: Pod "p" is invalid: * spec.a: bad * spec.b: bad',
    );
    expect(err.message).not.toContain('\n');
  });

  it('uses the HTTP reason when the body is not a Status', () => {
    const err = apiError(new KubeApiError(503, undefined, '<html>gateway</html>'), 'listing nodes');
    expect(err.code).toBe('FATHOM_KUBE_API_ERROR');
    expect(err.message).toBe('listing nodes: ServiceUnavailable: <html>gateway</html>');
  });

  it("reads the client library's ApiException with a Status body", () => {
    const e = new ApiException(
      403,
      'Unknown API Status Code!',
      status(403, 'Forbidden', forbidden),
      {},
    );
    const err = apiError(e, 'creating Pod x/p');
    expect(err.code).toBe('FATHOM_KUBE_FORBIDDEN');
    expect(err.message).toBe(`creating Pod x/p: Forbidden: ${forbidden}`);
  });

  it("reads the client library's Watch error (status code and status text only)", () => {
    const e = Object.assign(new Error('Gone'), { statusCode: 410 });
    const err = apiError(e, 'watching pods');
    expect([err.code, err.message]).toEqual(['FATHOM_KUBE_API_ERROR', 'watching pods: Gone: Gone']);
  });

  it('reads a Status object delivered as a watch ERROR event', () => {
    const err = apiError(
      { kind: 'Status', code: 410, reason: 'Expired', message: 'too old resource version: 1 (5)' },
      'watching pods',
    );
    expect(err.message).toBe('watching pods: Expired: too old resource version: 1 (5)');
  });

  it.each([
    ['ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:1', 'cannot reach the API server'],
    ['ENOTFOUND', 'getaddrinfo ENOTFOUND nowhere.invalid', 'cannot reach the API server'],
    ['DEPTH_ZERO_SELF_SIGNED_CERT', 'self-signed certificate', 'TLS'],
    ['ERR_TLS_CERT_ALTNAME_INVALID', "Hostname/IP does not match certificate's altnames", 'TLS'],
  ])('maps the network error %s to FATHOM_KUBE_UNREACHABLE', (code, message, why) => {
    const e = Object.assign(new Error(message), { code });
    const err = apiError(e, 'listing nodes');
    expect(err.code).toBe('FATHOM_KUBE_UNREACHABLE');
    expect(err.message).toBe(`listing nodes: ${why}: ${message}`);
  });

  it('finds a network code in the cause chain (fetch wraps system errors)', () => {
    const e = new Error('request failed', {
      cause: Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }),
    });
    expect(apiError(e, 'listing nodes').code).toBe('FATHOM_KUBE_UNREACHABLE');
  });

  it('maps a request timeout to FATHOM_KUBE_UNREACHABLE naming --request-timeout', () => {
    const e = new DOMException('The operation was aborted due to timeout', 'TimeoutError');
    const err = apiError(e, 'listing nodes');
    expect(err.code).toBe('FATHOM_KUBE_UNREACHABLE');
    expect(err.message).toBe(
      'listing nodes: the API server did not answer within --request-timeout',
    );
  });

  it('passes FathomErrors through and wraps anything else', () => {
    const mine = new FathomError('FATHOM_RUN_EXISTS', 'x');
    expect(apiError(mine, 'y')).toBe(mine);
    const other = apiError(new Error('boom'), 'reading Pod x/y');
    expect([other.code, other.message]).toEqual(['FATHOM_KUBE_API_ERROR', 'reading Pod x/y: boom']);
  });

  it('tells permanent failures from transient ones', () => {
    const of = (code: number): FathomError => apiError(new KubeApiError(code, undefined, ''), 'x');
    expect([401, 403, 404, 422].map((c) => isPermanent(of(c)))).toEqual([true, true, true, true]);
    expect([409, 429, 500, 503].map((c) => isPermanent(of(c)))).toEqual([
      false,
      false,
      false,
      false,
    ]);
  });
});
