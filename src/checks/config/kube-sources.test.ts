import { describe, expect, it } from 'vitest';
import { checkIds } from './identity.js';
import type { EndpointTarget, ServiceLike } from './kube-sources.js';
import {
  configMapChecks,
  serviceChecks,
  targetsOfEndpoints,
  targetsOfSlices,
} from './kube-sources.js';

const tcp = 'name: db\ntype: tcp\ninstances: [{host: db, port: 5432}]\n';

describe('ConfigMap check sources', () => {
  it('reads each .yaml/.yml key of a labelled ConfigMap as a file; a bad key is one error', () => {
    const { configs, errors } = configMapChecks({
      metadata: { name: 'checks', namespace: 'ops', labels: { 'fathom.dev/checks': '' } },
      data: {
        'b.yml': `${tcp}---\n${tcp.replace('db\n', 'db2\n')}`,
        'a.yaml': tcp.replace('name: db', 'name: a'),
        'bad.yaml': 'name: bad\ntype: tcp\ninstances: [{host: db}]\n',
        'README.md': 'not a check',
      },
    });
    expect(configs.map((c) => [c.name, c.source])).toEqual([
      ['a', 'ConfigMap ops/checks a.yaml:1'],
      ['db', 'ConfigMap ops/checks b.yml:1'],
      ['db2', 'ConfigMap ops/checks b.yml:5'],
    ]);
    expect(errors.map((e) => e.message)).toEqual([
      'ConfigMap ops/checks bad.yaml:3:13: instances[0].port: is missing',
    ]);
  });

  it('ignores a ConfigMap without the label', () => {
    expect(
      configMapChecks({ metadata: { name: 'x', labels: { other: '' } }, data: { 'a.yaml': tcp } }),
    ).toEqual({ configs: [], errors: [] });
  });
});

describe('endpoint targets', () => {
  it('takes the ready addresses of Endpoints with their subset ports and nodes', () => {
    expect(
      targetsOfEndpoints({
        subsets: [
          {
            addresses: [{ ip: '10.0.0.1', nodeName: 'n1' }, { ip: '192.168.1.9' }],
            ports: [{ name: 'http', port: 8080 }],
          },
          { ports: [{ port: 1 }] },
        ],
      }),
    ).toEqual([
      { ip: '10.0.0.1', ports: [{ name: 'http', port: 8080 }], nodeName: 'n1' },
      { ip: '192.168.1.9', ports: [{ name: 'http', port: 8080 }] },
    ]);
  });

  it('takes each ready address of EndpointSlices once (unset readiness is ready)', () => {
    expect(
      targetsOfSlices([
        {
          endpoints: [
            { addresses: ['10.0.0.1'], nodeName: 'n1', conditions: { ready: true } },
            { addresses: ['10.0.0.2'], nodeName: 'n2', conditions: { ready: false } },
            { addresses: ['10.0.0.3'] },
          ],
          ports: [{ name: 'http', port: 80 }],
        },
        { endpoints: [{ addresses: ['10.0.0.1'], nodeName: 'n1' }], ports: [{ port: 80 }] },
      ]),
    ).toEqual([
      { ip: '10.0.0.1', ports: [{ name: 'http', port: 80 }], nodeName: 'n1' },
      { ip: '10.0.0.3', ports: [{ name: 'http', port: 80 }] },
    ]);
  });
});

const service = (annotations: Record<string, string>): ServiceLike => ({
  metadata: { name: 'web', namespace: 'shop', annotations },
});
const targets: EndpointTarget[] = [
  {
    ip: '10.0.0.1',
    ports: [
      { name: 'metrics', port: 9090 },
      { name: 'http', port: 8080 },
    ],
    nodeName: 'n1',
  },
  { ip: 'fd00::2', ports: [{ name: 'http', port: 8080 }] },
];

describe('Service check sources', () => {
  it('makes one check per address: pod-backed ones on their node, others for dispatch', () => {
    const { configs, errors } = serviceChecks(
      service({
        'fathom.dev/check.web-health':
          'type: http\ninterval: 10s\ninstances:\n  - url: "http://%%host%%:%%port_http%%/healthz"\n',
        'fathom.dev/check.web-port':
          '{"type": "tcp", "instances": [{"host": "%%host%%", "port": "%%port%%"}]}',
        'other.io/annotation': 'ignored',
      }),
      targets,
    );
    expect(errors).toEqual([]);
    expect(
      configs.map((c) => ({
        name: c.name,
        node: c.node,
        instances: c.instances,
        source: c.source,
      })),
    ).toEqual([
      {
        name: 'web-health',
        node: 'n1',
        instances: [{ url: 'http://10.0.0.1:8080/healthz' }],
        source: 'Service shop/web annotation fathom.dev/check.web-health 10.0.0.1',
      },
      {
        name: 'web-health',
        node: undefined,
        instances: [{ url: 'http://[fd00::2]:8080/healthz' }],
        source: 'Service shop/web annotation fathom.dev/check.web-health fd00::2',
      },
      // `%%port%%` is the highest port, and a whole-value variable keeps its type.
      {
        name: 'web-port',
        node: 'n1',
        instances: [{ host: '10.0.0.1', port: 9090 }],
        source: expect.any(String),
      },
      {
        name: 'web-port',
        node: undefined,
        instances: [{ host: 'fd00::2', port: 8080 }],
        source: expect.any(String),
      },
    ]);
    expect(configs[0]).toMatchObject({ type: 'http', intervalMs: 10_000 });
    expect(new Set(configs.map((c) => c.digest)).size).toBe(4);
  });

  it('gives one check when the template does not tell addresses apart; nodes still do', () => {
    const { configs } = serviceChecks(
      service({ 'fathom.dev/check.dns': 'type: dns\ninstances: [{name: web.shop.svc}]\n' }),
      [{ ip: '10.0.0.5', ports: [] }, { ip: '10.0.0.6', ports: [] }, ...targets],
    );
    expect(configs.map((c) => c.node)).toEqual([undefined, 'n1']);
    expect(checkIds(configs[0]!)).not.toEqual(checkIds(configs[1]!));
  });

  it.each([
    [
      'a document with a name',
      'name: x\ntype: tcp\ninstances: [{host: "%%host%%", port: 1}]',
      [
        'Service shop/web annotation fathom.dev/check.web:1:7: name: is given by the source (the annotation key): remove it',
      ],
    ],
    [
      'a broken template, even without endpoints',
      'type: tcp\ninstances: [{host: "%%host%%", port: "%%host%%"}]',
      [
        'Service shop/web annotation fathom.dev/check.web:2:38: instances[0].port: must be an integer',
      ],
    ],
    [
      'an unknown variable',
      'type: tcp\ninstances: [{host: "%%hostname%%", port: 1}]',
      [
        'Service shop/web annotation fathom.dev/check.web:2:20: instances[0].host: uses %%hostname%%, which is not a template variable (%%host%%, %%port%%, %%port_<name>%%)',
      ],
    ],
    [
      'two documents',
      'type: tcp\n---\ntype: tcp\n',
      ['Service shop/web annotation fathom.dev/check.web: must hold one check document, not 2'],
    ],
    [
      'broken YAML',
      '{"type": "tcp",',
      [expect.stringMatching(/^Service shop\/web annotation fathom\.dev\/check\.web:1:\d+: /)],
    ],
  ])('refuses %s with one error naming the annotation', (_what, value, expected) => {
    const { configs, errors } = serviceChecks(service({ 'fathom.dev/check.web': value }), targets);
    expect(configs).toEqual([]);
    expect(errors.map((e) => e.message)).toEqual(expected);
  });

  it('reports an address missing a named port and still checks the others', () => {
    const { configs, errors } = serviceChecks(
      service({
        'fathom.dev/check.m':
          'type: tcp\ninstances: [{host: "%%host%%", port: "%%port_metrics%%"}]',
      }),
      targets,
    );
    expect(configs.map((c) => c.instances[0])).toEqual([{ host: '10.0.0.1', port: 9090 }]);
    expect(errors.map((e) => e.message)).toEqual([
      'Service shop/web annotation fathom.dev/check.m:2:38: instances[0].port: uses %%port_metrics%%, which endpoint fd00::2 does not have',
    ]);
  });

  it('refuses an annotation whose name is not a check name', () => {
    const { errors } = serviceChecks(service({ 'fathom.dev/check.Web_1': 'type: tcp' }), targets);
    expect(errors.map((e) => e.message)).toEqual([
      `Service shop/web annotation fathom.dev/check.Web_1: "Web_1" is not a check name (lowercase letters, digits and '-', at most 63)`,
    ]);
  });

  it('checks at most the address limit of a Service, saying so', () => {
    const many = Array.from({ length: 1001 }, (_, i) => ({
      ip: `10.1.${Math.floor(i / 250)}.${i % 250}`,
      ports: [{ port: 80 }],
    }));
    const { configs, errors } = serviceChecks(
      service({
        'fathom.dev/check.t': 'type: tcp\ninstances: [{host: "%%host%%", port: "%%port%%"}]',
      }),
      many,
    );
    expect(configs).toHaveLength(1000);
    expect(errors.map((e) => e.message)).toEqual([
      'Service shop/web: has 1001 endpoint addresses, over the limit of 1000: only the first are checked',
    ]);
  });
});
