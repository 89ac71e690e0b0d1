import { describe, expect, it } from 'vitest';
import { FathomError } from '../core/errors.js';
import { needsOf, parseSessionText, sessionLimits, timeoutMs, ttlMs } from './spec.js';

const good = `apiVersion: fathom.dev/v1alpha1
kind: Session
metadata:
  name: load
spec:
  timeout: 10m
  components:
    - name: drv
      kind: driver
      pool: drivers
      command: [./driver, --scenario, x]
    - name: srv
      kind: server
      pool: workers
      replicas: 4
      command: [./server]
      port: 10000
    - name: cli
      kind: client
      pool: workers
      replicas: 8
      command: [./client]
      env: { QPS: "100" }
`;

/** The one-line error for `text`, or 'ok'. */
function errorOf(text: string, opts = {}): string {
  try {
    parseSessionText(text, 's.yaml', opts);
    return 'ok';
  } catch (e) {
    expect(e).toBeInstanceOf(FathomError);
    expect((e as FathomError).code).toMatch(/^FATHOM_(SESSION_INVALID|YAML_SYNTAX)$/);
    return (e as Error).message;
  }
}

const edit = (from: string, to: string): string => {
  expect(good).toContain(from);
  return good.replace(from, to);
};

describe('parseSessionText', () => {
  it('reads a session, fills defaults and freezes it', () => {
    const [s] = parseSessionText(good, 's.yaml');
    expect(s!.metadata).toEqual({ name: 'load' });
    expect(s!.spec.priority).toBe(0);
    expect(s!.spec.ttl).toBe('1h');
    expect(timeoutMs(s!.spec)).toBe(600_000);
    expect(ttlMs(s!.spec)).toBe(3_600_000);
    expect(s!.spec.components[0]!.replicas).toBe(1);
    expect(s!.spec.components[1]!.port).toBe(10000);
    expect(needsOf(s!.spec)).toEqual([
      ['drivers', 1],
      ['workers', 12],
    ]);
    expect(Object.isFrozen(s!.spec.components[2]!.env)).toBe(true);
  });

  it('defaults the timeout to 15m and reads 0 as no limit', () => {
    const [a] = parseSessionText(edit('  timeout: 10m\n', ''), 's.yaml');
    expect(timeoutMs(a!.spec)).toBe(900_000);
    const [b] = parseSessionText(edit('timeout: 10m', 'timeout: 0'), 's.yaml');
    expect(timeoutMs(b!.spec)).toBeUndefined();
  });

  it('reads one session per document', () => {
    const two = `${good}---\n${good.replace('name: load', 'name: load2')}`;
    expect(parseSessionText(two, 's.yaml').map((s) => s.metadata.name)).toEqual(['load', 'load2']);
  });

  const cases: [string, string, string][] = [
    [
      'wrong apiVersion',
      edit('fathom.dev/v1alpha1', 'v1'),
      's.yaml:1:13: apiVersion must be fathom.dev/v1alpha1',
    ],
    ['wrong kind', edit('kind: Session', 'kind: Pod'), 's.yaml:2:7: kind must be Session'],
    [
      'bad name',
      edit('name: load', 'name: Load_1'),
      's.yaml:4:9: metadata.name "Load_1" is not a DNS label (a-z, 0-9, -; at most 63)',
    ],
    [
      'unknown field',
      edit('  timeout: 10m', '  timout: 10m'),
      's.yaml:6:11: spec.timout is not a field (components, timeout, ttl, priority)',
    ],
    [
      'bad duration',
      edit('timeout: 10m', 'timeout: soon'),
      's.yaml:6:12: spec.timeout "soon" is not a duration (use forms like 90s, 15m, 1h30m)',
    ],
    [
      'no driver',
      edit('kind: driver', 'kind: client'),
      's.yaml:8:5: spec.components needs exactly one driver (none given)',
    ],
    [
      'two drivers',
      edit('kind: server', 'kind: driver'),
      's.yaml:13:13: spec.components[1].kind is a second driver (components[0] is one)',
    ],
    [
      'driver replicas',
      edit('      pool: drivers\n', '      pool: drivers\n      replicas: 2\n'),
      's.yaml:11:17: spec.components[0].replicas must be 1 for the driver',
    ],
    [
      'duplicate component',
      edit('name: cli', 'name: srv'),
      's.yaml:18:13: spec.components[2].name "srv" is used by components[1] too',
    ],
    [
      'too many replicas',
      edit('replicas: 8', 'replicas: 1001'),
      's.yaml:21:17: spec.components[2].replicas must be <= 1000',
    ],
    [
      'replicas 0',
      edit('replicas: 8', 'replicas: 0'),
      's.yaml:21:17: spec.components[2].replicas must be >= 1',
    ],
    ['no pool', edit('      pool: drivers\n', ''), 's.yaml:8:7: spec.components[0] needs "pool"'],
    [
      'bad pool',
      edit('pool: drivers', 'pool: "a b"'),
      's.yaml:10:13: spec.components[0].pool "a b" is not a label value',
    ],
    [
      'command not a list',
      edit('command: [./server]', 'command: ./server'),
      's.yaml:16:16: spec.components[1].command must be a list',
    ],
    [
      'empty command',
      edit('command: [./server]', 'command: []'),
      's.yaml:16:16: spec.components[1].command must name an executable',
    ],
    [
      'env not strings',
      edit('QPS: "100"', 'QPS: 100'),
      's.yaml:23:19: spec.components[2].env.QPS must be a string',
    ],
    [
      'bad port',
      edit('port: 10000', 'port: 70000'),
      's.yaml:17:13: spec.components[1].port must be <= 65535',
    ],
    [
      'priority not integer',
      edit('  timeout: 10m', '  priority: high'),
      's.yaml:6:13: spec.priority must be an integer',
    ],
    ['not a mapping', '- a\n', 's.yaml:1:1: must be a mapping (apiVersion, kind, metadata, spec)'],
    [
      'syntax',
      'a: [\n',
      's.yaml:2:1: Flow sequence in block collection must be sufficiently indented and end with a ]',
    ],
    [
      'duplicate session',
      `${good}---\n${good}`,
      's.yaml:28:9: metadata.name "load" is also the name of the session at line 4',
    ],
    ['empty file', '---\n', 's.yaml: holds no Session (the file is empty)'],
  ];
  it.each(cases)('%s', (_, text, message) => {
    expect(errorOf(text)).toBe(message);
  });

  it('requires images only when asked (Kubernetes)', () => {
    expect(errorOf(good)).toBe('ok');
    expect(errorOf(good, { requireImage: true })).toBe(
      's.yaml:8:7: spec.components[0] needs "image" on Kubernetes',
    );
  });

  it('bounds the text before parsing it', () => {
    const many = Array.from({ length: sessionLimits.documents + 1 }, () => 'a: 1\n').join('---\n');
    expect(errorOf(many)).toBe('s.yaml: holds more than 100 documents');
    expect(errorOf(`x: "${'a'.repeat(sessionLimits.fileBytes)}"`)).toMatch(/over the 1 MiB limit$/);
  });
});
