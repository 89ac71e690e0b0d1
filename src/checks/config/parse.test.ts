import { describe, expect, it } from 'vitest';
import { FathomError } from '../../core/errors.js';
import { checkIds, configDigest } from './identity.js';
import { checkLimits } from './limits.js';
import { splitPath } from '../../core/yaml-locate.js';
import { parseCheckText } from './parse.js';

const web = `name: web
type: http
interval: 30s
instances:
  - url: https://example.test/health
    expect_status: [200, 204]
    headers: { X-Probe: fathom }
  - url: http://other.test/
nodeSelector:
  pool: edge
pinned: true
`;

function errorOf(text: string, file = 'checks/web.yaml'): FathomError {
  try {
    parseCheckText(text, file);
  } catch (err) {
    if (err instanceof FathomError) return err;
    throw err;
  }
  throw new Error('no error');
}

describe('check config documents', () => {
  it('validates a document into a frozen config with defaults and its source line', () => {
    const [config, second] = parseCheckText(
      `${web}---\nname: dns-internal\ntype: dns\ninstances: [{ name: kubernetes.default }]\n`,
      'checks/web.yaml',
    );
    expect(config).toMatchObject({
      name: 'web',
      type: 'http',
      intervalMs: 30_000,
      timeoutMs: 10_000,
      nodeSelector: { pool: 'edge' },
      pinned: true,
      source: 'checks/web.yaml:1',
    });
    expect(config!.instances).toEqual([
      {
        url: 'https://example.test/health',
        expect_status: [200, 204],
        headers: { 'X-Probe': 'fathom' },
      },
      { url: 'http://other.test/' },
    ]);
    expect(config).not.toHaveProperty('exclude');
    expect(Object.isFrozen(config!.instances[0])).toBe(true);
    expect(config!.digest).toMatch(/^[0-9a-f]{16}$/);
    // Defaults: 15 s interval; the timeout is the smaller of 10 s and the interval.
    expect(second).toMatchObject({
      intervalMs: 15_000,
      timeoutMs: 10_000,
      source: 'checks/web.yaml:13',
    });
    const [short] = parseCheckText(
      'name: t\ntype: tcp\ninterval: 2s\ninstances: [{host: db, port: 5432}]\n',
      'x.yaml',
    );
    expect(short).toMatchObject({ intervalMs: 2000, timeoutMs: 2000 });
  });

  it('gives one digest to equal content wherever it was read, another to any change', () => {
    const [a] = parseCheckText(web, 'a.yaml');
    const [b] = parseCheckText(
      `# a comment\n\n${web.replace('interval: 30s', 'interval: 30000ms')}`,
      'b.yaml',
    );
    expect(b!.source).toBe('b.yaml:3');
    expect(b!.digest).toBe(a!.digest);
    const [c] = parseCheckText(web.replace('pool: edge', 'pool: core'), 'a.yaml');
    expect(c!.digest).not.toBe(a!.digest);
    // `exclude: false` behaves as no field, so it is no change.
    const [d] = parseCheckText(`${web}exclude: false\n`, 'a.yaml');
    expect(d!.digest).toBe(a!.digest);
    // The digest is over the content only: known value, stable across processes.
    const { source: _s, digest, ...content } = a!;
    expect(configDigest(content)).toBe(digest);
  });

  it('gives each instance a stable name:hash ID that ignores the interval', () => {
    const [a] = parseCheckText(web, 'a.yaml');
    const [b] = parseCheckText(web.replace('30s', '1m'), 'a.yaml');
    const ids = checkIds(a!);
    expect(ids).toHaveLength(2);
    for (const id of ids) expect(id).toMatch(/^web:[0-9a-f]{16}$/);
    expect(ids[0]).not.toBe(ids[1]);
    expect(checkIds(b!)).toEqual(ids);
    expect(checkIds({ ...a!, node: 'n1' })[0]).not.toBe(ids[0]);
    // Key order in the file does not matter.
    const [swapped] = parseCheckText(
      web.replace(
        '  - url: https://example.test/health\n    expect_status: [200, 204]\n    headers: { X-Probe: fathom }\n',
        '  - headers: { X-Probe: fathom }\n    expect_status: [200, 204]\n    url: https://example.test/health\n',
      ),
      'a.yaml',
    );
    expect(checkIds(swapped!)).toEqual(ids);
    expect(swapped!.digest).toBe(a!.digest);
  });

  it.each([
    [
      'a number for a string',
      web.replace('http://other.test/', '8080'),
      '8:10: instances[1].url: must be a string',
    ],
    [
      'a non-http URL',
      web.replace('http://other.test/', 'ftp://x/'),
      '8:10: instances[1].url: must be an http:// or https:// URL, not ftp:',
    ],
    [
      'an unknown instance key',
      web.replace('    headers:', '    expect_staus: [1]\n    headers:'),
      '7:5: instances[0].expect_staus: is not a field of an http instance (url, method, headers, body, expect_status, body_regex, tls_verify, ca_file, cert_days_warning, cert_days_critical, latency_warning_ms)',
    ],
    [
      'a bad status',
      web.replace('204', '99'),
      '6:26: instances[0].expect_status[1]: must be >= 100',
    ],
    [
      'a bad header value',
      web.replace('fathom }', '1 }'),
      '7:25: instances[0].headers.X-Probe: must be a string',
    ],
    [
      'an unknown top-level key',
      `${web}intervall: 1m\n`,
      '12:1: intervall: is not a field of a check config (name, type, interval, timeout, instances, nodeSelector, exclude, pinned)',
    ],
    [
      'an unknown type',
      web.replace('type: http', 'type: https'),
      '2:7: type: must be one of http, tcp, dns, command, kubernetes-status, plugin',
    ],
    [
      'a missing type',
      web.replace('type: http\n', ''),
      '1:1: needs a "type" (http, tcp, dns, command, kubernetes-status, plugin)',
    ],
    [
      'a bad name',
      web.replace('name: web', 'name: Web_1'),
      '1:7: name: "Web_1" is not a check name (lowercase letters, digits and \'-\', at most 63)',
    ],
    ['a long name', web.replace('name: web', `name: ${'a'.repeat(64)}`), '1:7: name: "'],
    [
      'a bad duration',
      web.replace('30s', '30 seconds'),
      '3:11: interval: "30 seconds" is not a duration (use forms like 30s, 5m, 1h30m)',
    ],
    ['a too short interval', web.replace('30s', '500ms'), '3:11: interval: must be from 1s to 24h'],
    [
      'a timeout over the interval',
      `${web}timeout: 31s\n`,
      '12:10: timeout: must be at most the interval (a run ends before the next)',
    ],
    [
      'no instances',
      web.replace(/instances:[^]*nodeSelector/, 'instances: []\nnodeSelector'),
      '4:12: instances: must not be empty',
    ],
    [
      'a repeated instance',
      web.replace(
        'http://other.test/',
        'https://example.test/health\n    expect_status: [200, 204]\n    headers: { X-Probe: fathom }',
      ),
      '8:5: instances[1]: repeats instances[0]',
    ],
    [
      'a bad regex',
      web.replace('http://other.test/', 'http://o/\n    body_regex: "(("'),
      '9:17: instances[1].body_regex: is not a regular expression',
    ],
    [
      'a bad label key',
      web.replace('pool: edge', '"-pool": edge'),
      '10:12: nodeSelector.-pool: is not a label key',
    ],
    [
      'a non-boolean flag',
      web.replace('pinned: true', 'pinned: yes'),
      '11:9: pinned: must be true or false',
    ],
    ['a list document', '- a\n- b\n', '1:1: must be a mapping'],
  ])('refuses %s with one line naming file, line, column and field', (_what, text, expected) => {
    const err = errorOf(text);
    expect(err.code).toBe('FATHOM_CHECK_INVALID');
    expect(err.message).toContain(`checks/web.yaml:${expected}`);
    expect(err.message).not.toContain('\n');
  });

  it.each([
    ['tcp', 'host: db\n    port: 70000', 'instances[0].port: must be <= 65535'],
    ['tcp', 'host: db', '4:5: instances[0].port: is missing'],
    ['dns', 'name: x\n    record_type: PTR', 'instances[0].record_type: must be one of'],
    ['command', 'command: []', 'instances[0].command: must not be empty'],
    [
      'command',
      'command: [check]\n    env: { "1X": y }',
      'instances[0].env: "1X" is not an environment variable name',
    ],
    ['command', 'command: "check --fast"', 'instances[0].command: must be a list'],
    [
      'kubernetes-status',
      'apiVersion: apps/v1\n    kind: Deployment',
      'instances[0].name: is missing',
    ],
    [
      'plugin',
      'plugin: p.yaml\n    args: [x]',
      'instances[0].args: is not a field of a plugin instance (plugin)',
    ],
  ])('checks %s instances against their schema: %s', (type, instance, expected) => {
    const err = errorOf(`name: c\ntype: ${type}\ninstances:\n  - ${instance}\n`);
    expect(err.message).toContain(expected);
  });

  it('accepts every instance type in its documented shape', () => {
    const configs = parseCheckText(
      [
        'name: a\ntype: tcp\ninstances: [{host: db, port: 5432, latency_warning_ms: 50}]',
        'name: b\ntype: dns\ninstances: [{name: example.test, record_type: AAAA, server: "10.0.0.10:53", expect: ["::1"]}]',
        'name: c\ntype: command\ninstances: [{command: [check, --fast], env: {A: b}, max_output_bytes: 100, output_regex: "^OK"}]',
        'name: d\ntype: kubernetes-status\ninstances: [{apiVersion: apps/v1, kind: Deployment, name: web, namespace: prod}]',
        'name: e\ntype: plugin\ninstances: [{plugin: plugins/e2e.yaml}]',
        'name: f\ntype: http\ninterval: 60\ntimeout: 5\nexclude: true\ninstances: [{url: "https://x.test", method: HEAD, tls_verify: false, cert_days_warning: 30, cert_days_critical: 10, body: "", ca_file: /ca.pem}]',
      ].join('\n---\n'),
      'all.yaml',
    );
    expect(configs.map((c) => c.type)).toEqual([
      'tcp',
      'dns',
      'command',
      'kubernetes-status',
      'plugin',
      'http',
    ]);
    expect(configs[5]).toMatchObject({ intervalMs: 60_000, timeoutMs: 5000, exclude: true });
  });

  it('skips empty documents and reports broken YAML at its position', () => {
    expect(parseCheckText('---\n---\n# nothing\n', 'e.yaml')).toEqual([]);
    const err = errorOf('name: web\ntype: [http\n');
    expect(err.code).toBe('FATHOM_YAML_SYNTAX');
    expect(err.message).toMatch(/^checks\/web\.yaml:\d+:\d+: /);
  });

  it('bounds bytes, documents, nodes and alias expansion before building', () => {
    const big = `name: x\ntype: tcp\ninstances: [{host: "${'a'.repeat(checkLimits.fileBytes)}", port: 1}]\n`;
    expect(errorOf(big).message).toMatch(/^checks\/web\.yaml: is \d+ bytes, over the 1 MiB limit$/);
    expect(errorOf('---\na: 1\n'.repeat(1001)).message).toBe(
      'checks/web.yaml: holds more than 1000 YAML documents, the limit',
    );
    const many = `name: x\ntype: tcp\ninstances: [${'{host: a, port: 1},'.repeat(40_000)}]\n`;
    expect(errorOf(many).message).toBe(
      'checks/web.yaml: holds more than 100000 YAML nodes, the limit',
    );
    const aliases = `a: &a [${'x,'.repeat(50)}]\nb: &b [${'*a,'.repeat(50)}]\nc: [${'*b,'.repeat(50)}]\n`;
    expect(errorOf(aliases).message).toMatch(/^checks\/web\.yaml:1:1: /);
    const instances = `name: x\ntype: tcp\ninstances:\n${'  - {host: a, port: 1}\n'.repeat(1001)}`;
    expect(errorOf(instances).message).toContain('instances: must have at most 1000 items');
  });

  it('splits schema paths back into segments', () => {
    expect(splitPath('instances[0].headers["X.Y"]')).toEqual(['instances', 0, 'headers', 'X.Y']);
    expect(splitPath('')).toEqual([]);
  });
});
