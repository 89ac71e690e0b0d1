import { describe, expect, it } from 'vitest';
import { FathomError } from '../core/errors.js';
import { parsePluginDocuments } from './loader.js';

const CFG = 'sonobuoy-config:\n  driver: Job\n  plugin-name: p\n';
const SPEC = 'spec:\n  image: busybox\n';

function errorOf(text: string): FathomError {
  try {
    parsePluginDocuments(text, 'x.yaml');
  } catch (err) {
    expect(err).toBeInstanceOf(FathomError);
    return err as FathomError;
  }
  throw new Error('expected the document to be rejected');
}

describe('plugin definition errors name file:line:col and the field', () => {
  it.each([
    [
      '- a\n',
      '1:1: a plugin definition must be a mapping with sonobuoy-config and spec, not a list',
    ],
    [
      'just text\n',
      '1:1: a plugin definition must be a mapping with sonobuoy-config and spec, not a string',
    ],
    [SPEC, '1:1: sonobuoy-config is required (driver, plugin-name...)'],
    [`sonobuoy-config: [a]\n${SPEC}`, '1:18: sonobuoy-config must be a mapping, not a list'],
    [
      `sonobuoy-config:\n  plugin-name: p\n${SPEC}`,
      '1:1: sonobuoy-config.driver is required (Job or DaemonSet)',
    ],
    [
      `sonobuoy-config:\n  driver: Foo\n  plugin-name: p\n${SPEC}`,
      '2:11: sonobuoy-config.driver must be Job or DaemonSet, not "Foo"',
    ],
    [
      `sonobuoy-config:\n  driver: 3\n  plugin-name: p\n${SPEC}`,
      '2:11: sonobuoy-config.driver must be a string, not a number (3); quote the value to make it a string',
    ],
    [
      `sonobuoy-config:\n  driver: Job\n${SPEC}`,
      '1:1: sonobuoy-config.plugin-name is required (the plugin name)',
    ],
    [
      `sonobuoy-config:\n  driver: Job\n  plugin-name:\n${SPEC}`,
      '3:3: sonobuoy-config.plugin-name is required (the plugin name)',
    ],
    [
      `sonobuoy-config:\n  driver: Job\n  plugin-name: sonobuoy\n${SPEC}`,
      '3:16: sonobuoy-config.plugin-name "sonobuoy" is reserved for the aggregator',
    ],
    [
      `sonobuoy-config:\n  driver: Job\n  plugin-name: "-p"\n${SPEC}`,
      '3:16: sonobuoy-config.plugin-name "-p" is invalid: use lowercase letters',
    ],
    [
      `${CFG}  result-format: [junit]\n${SPEC}`,
      '4:18: sonobuoy-config.result-format must be a string, not a list',
    ],
    [
      `${CFG}  result-files: out.xml\n${SPEC}`,
      '4:17: sonobuoy-config.result-files must be a list, not a string',
    ],
    [
      `${CFG}  result-files:\n  - ok.xml\n  - a/b.xml\n${SPEC}`,
      '6:5: sonobuoy-config.result-files[1] must be a file base name (results are matched by base name), not "a/b.xml"',
    ],
    [
      `${CFG}  exit-code-verdict: true\n  result-format: junit\n${SPEC}`,
      '4:22: sonobuoy-config.exit-code-verdict needs result-format raw, not "junit"',
    ],
    [
      `${CFG}  skip-cleanup: "yes"\n${SPEC}`,
      '4:17: sonobuoy-config.skip-cleanup must be true or false, not a string',
    ],
    [
      `${CFG}  order: 1.5\n${SPEC}`,
      '4:10: sonobuoy-config.order must be an integer, not a number (1.5)',
    ],
    [
      `${CFG}  description: 12\n${SPEC}`,
      '4:16: sonobuoy-config.description must be a string, not a number (12)',
    ],
    [
      `${CFG}  source-url: {a: b}\n${SPEC}`,
      '4:15: sonobuoy-config.source-url must be a string, not a mapping',
    ],
    [CFG, "1:1: spec is required (the plugin's container)"],
    [`${CFG}spec: []\n`, '4:7: spec must be a mapping, not a list'],
    [`${CFG}spec:\n  command: ./run.sh\n`, '5:12: spec.command must be a list, not a string'],
    [
      `${CFG}spec:\n  args: [a, 1]\n`,
      '5:13: spec.args[1] must be a string, not a number (1); quote the value',
    ],
    [`${CFG}spec:\n  image: 1.10\n`, '5:10: spec.image must be a string, not a number (1.1)'],
    [`${CFG}spec:\n  name: [x]\n`, '5:9: spec.name must be a string, not a list'],
    [
      `${CFG}spec:\n  workingDir: true\n`,
      '5:15: spec.workingDir must be a string, not true/false (true)',
    ],
    [`${CFG}spec:\n  imagePullPolicy: 1\n`, '5:20: spec.imagePullPolicy must be a string'],
    [
      `${CFG}spec:\n  volumeMounts: [a]\n`,
      '5:18: spec.volumeMounts[0] must be a mapping, not a string',
    ],
    [`${CFG}spec:\n  env: {A: b}\n`, '5:8: spec.env must be a list, not a mapping'],
    [
      `${CFG}spec:\n  env:\n  - value: x\n`,
      '6:5: spec.env[0].name is required (the variable name)',
    ],
    [
      `${CFG}spec:\n  env:\n  - name: 1X\n`,
      '6:11: spec.env[0].name "1X" is not a valid environment variable name',
    ],
    [
      `${CFG}spec:\n  env:\n  - name: A\n    value: true\n`,
      '7:12: spec.env[0].value must be a string, not true/false (true); quote',
    ],
    [
      `${CFG}spec:\n  env:\n  - name: A\n    value: x\n    valueFrom: {fieldRef: {fieldPath: spec.nodeName}}\n`,
      '8:16: spec.env[0].valueFrom may not be set together with value',
    ],
    [`${CFG}${SPEC}podSpec: x\n`, '6:10: podSpec must be a mapping, not a string'],
    [
      `${CFG}${SPEC}podSpec:\n  nodeSelector:\n    a: 1\n`,
      '8:8: podSpec.nodeSelector.a must be a string, not a number (1)',
    ],
    [
      `${CFG}${SPEC}podSpec:\n  containers: {}\n`,
      '7:15: podSpec.containers must be a list, not a mapping',
    ],
    [
      `${CFG}${SPEC}podSpec:\n  containers:\n  - name: side\n    env:\n    - name: A\n      value: 5\n`,
      '11:14: podSpec.containers[0].env[0].value must be a string',
    ],
    [
      `${CFG}${SPEC}extra-volumes:\n- emptyDir: {}\n`,
      '7:3: extra-volumes[0].name is required (the volume name)',
    ],
    [`${CFG}${SPEC}config-map: [a]\n`, '6:13: config-map must be a mapping, not a list'],
    [
      `${CFG}${SPEC}config-map:\n  ../x: y\n`,
      '7:9: config-map["../x"] key "../x" is not a valid file name',
    ],
    [
      `${CFG}${SPEC}config-map:\n  a.txt: 5\n`,
      '7:10: config-map["a.txt"] must be a string, not a number (5)',
    ],
    [
      `${CFG}${SPEC}config-map:\n  a.json: |\n    {"a": [1,\n`,
      '7:11: config-map["a.json"] must parse as YAML (line 2 of the entry): ',
    ],
  ])('%j → %s', (text, expected) => {
    const err = errorOf(text);
    expect(err.code).toBe('FATHOM_PLUGIN_INVALID');
    expect(err.message.startsWith(`x.yaml:${expected}`)).toBe(true);
    expect(err.message).not.toContain('\n');
  });

  const affinity = (expr: string) =>
    `${CFG}${SPEC}podSpec:\n  affinity:\n    nodeAffinity:\n      requiredDuringSchedulingIgnoredDuringExecution:\n        nodeSelectorTerms:\n${expr}`;
  const terms =
    'podSpec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms';

  it.each([
    [
      '        - matchExpressions:\n          - {key: a, operator: Foo}\n',
      `12:32: ${terms}[0].matchExpressions[0].operator must be one of In, NotIn, Exists, DoesNotExist, Gt, Lt, not "Foo"`,
    ],
    [
      '        - matchExpressions:\n          - {key: a, operator: In}\n',
      `12:13: ${terms}[0].matchExpressions[0].values must not be empty for operator In`,
    ],
    [
      '        - matchExpressions:\n          - {key: a, operator: Exists, values: [x]}\n',
      `12:48: ${terms}[0].matchExpressions[0].values must be empty for operator Exists`,
    ],
    [
      '        - matchExpressions:\n          - {key: a, operator: Gt, values: [x]}\n',
      `12:44: ${terms}[0].matchExpressions[0].values must hold exactly one integer for operator Gt`,
    ],
    [
      '        - matchExpressions:\n          - {operator: Exists}\n',
      `12:13: ${terms}[0].matchExpressions[0].key is required (a label key)`,
    ],
    [
      '        - matchFields:\n          - {key: metadata.uid, operator: In, values: [x]}\n',
      `12:19: ${terms}[0].matchFields[0].key must be metadata.name`,
    ],
    ['          []\n', `11:11: ${terms} must hold at least one term`],
  ])('affinity %j → %s', (expr, expected) => {
    const err = errorOf(affinity(expr));
    expect(err.message.startsWith(`x.yaml:${expected}`)).toBe(true);
  });
});

describe('plugin definition decoding', () => {
  it('reads every field, case-insensitive driver, and ignores unknown fields', () => {
    const text = `# leading comment
sonobuoy-config:
  driver: daemonset
  plugin-name: full.example
  result-format: e2e
  result-files: [a.xml, b.xml]
  skip-cleanup: true
  description: Does things.
  source-url: https://example.com
  order: -2
  unknown-key: ignored
spec:
  name: plugin
  image: img:1
  command: [/bin/sh, -c]
  args: [echo hi]
  workingDir: /work
  env:
  - {name: A, value: "1"}
  - {name: B}
  - {name: NODE, valueFrom: {fieldRef: {fieldPath: spec.nodeName}}}
  resources: {}
podSpec:
  nodeSelector: {kubernetes.io/os: linux}
  affinity:
    nodeAffinity:
      requiredDuringSchedulingIgnoredDuringExecution:
        nodeSelectorTerms:
        - matchExpressions:
          - {key: zone, operator: In, values: [a, b]}
          matchFields:
          - {key: metadata.name, operator: NotIn, values: [n9]}
extra-volumes:
- {name: v, emptyDir: {}}
config-map:
  conf.yaml: "a: 1"
  notes.txt: "{not yaml"
whatever: true
`;
    const { plugins, warnings } = parsePluginDocuments(text, 'full.yaml');
    expect(warnings).toEqual([]);
    const p = plugins[0]!;
    expect(p).toMatchObject({
      name: 'full.example',
      driver: 'DaemonSet',
      resultFormat: 'e2e',
      resultFiles: ['a.xml', 'b.xml'],
      skipCleanup: true,
      description: 'Does things.',
      sourceUrl: 'https://example.com',
      order: -2,
      nodeSelector: { 'kubernetes.io/os': 'linux' },
      configMap: { 'conf.yaml': 'a: 1', 'notes.txt': '{not yaml' },
      source: { file: 'full.yaml', document: 0 },
    });
    expect(p.container).toEqual({
      name: 'plugin',
      image: 'img:1',
      command: ['/bin/sh', '-c'],
      args: ['echo hi'],
      env: [
        { name: 'A', value: '1' },
        { name: 'B', value: '' },
      ],
      workingDir: '/work',
    });
    expect(p.requiredNodeAffinity).toEqual([
      {
        matchExpressions: [{ key: 'zone', operator: 'In', values: ['a', 'b'] }],
        matchFields: [{ key: 'metadata.name', operator: 'NotIn', values: ['n9'] }],
      },
    ]);
    expect(p.manifest.whatever).toBe(true);
    expect(Object.isFrozen(p)).toBe(true);
  });

  it.each([
    ['JOB', 'Job'],
    ['Job', 'Job'],
    ['DAEMONSET', 'DaemonSet'],
  ])('driver %s is %s', (raw, driver) => {
    const text = `sonobuoy-config: {driver: ${raw}, plugin-name: p}\n${SPEC}`;
    expect(parsePluginDocuments(text, 'x.yaml').plugins[0]!.driver).toBe(driver);
  });

  it('treats an empty result-format as raw silently and an unknown one as raw with a warning', () => {
    const empty = parsePluginDocuments(`${CFG}  result-format: ""\n${SPEC}`, 'x.yaml');
    expect([empty.plugins[0]!.resultFormat, empty.warnings]).toEqual(['raw', []]);
    const odd = parsePluginDocuments(`${CFG}  result-format: JUnit\n${SPEC}`, 'x.yaml');
    expect(odd.plugins[0]!.resultFormat).toBe('raw');
    expect(odd.warnings).toEqual([
      'x.yaml:4:18: sonobuoy-config.result-format "JUnit" is not one of junit, e2e, gojson, raw, manual; results will be processed as raw',
    ]);
  });

  it('treats null fields as absent, as Go does', () => {
    const text = `${CFG}  description: ~\n  result-files: null\nspec:\n  image: x\n  env: ~\npodSpec: ~\n`;
    const p = parsePluginDocuments(text, 'x.yaml').plugins[0]!;
    expect([p.description, p.resultFiles, p.container.env, p.nodeSelector]).toEqual([
      '',
      [],
      [],
      {},
    ]);
    expect(p.requiredNodeAffinity).toBeUndefined();
  });

  it('accepts config-map YAML that Go reads: duplicate keys, several documents', () => {
    const text = `${CFG}${SPEC}config-map:\n  a.yaml: "k: 1\\nk: 2\\n---\\nz: 3\\n"\n`;
    const p = parsePluginDocuments(text, 'x.yaml').plugins[0]!;
    expect(p.configMap['a.yaml']).toBe('k: 1\nk: 2\n---\nz: 3\n');
  });

  it('follows anchors and merge keys', () => {
    const text = `base: &cfg {driver: Job, result-format: junit}\nsonobuoy-config:\n  <<: *cfg\n  plugin-name: merged\n${SPEC}`;
    const p = parsePluginDocuments(text, 'x.yaml').plugins[0]!;
    expect([p.name, p.driver, p.resultFormat]).toEqual(['merged', 'Job', 'junit']);
  });

  it('locates errors in later documents of a multi-document file', () => {
    const text = `${CFG}${SPEC}---\n---\nsonobuoy-config:\n  driver: Pod\n  plugin-name: q\n${SPEC}`;
    expect(errorOf(text).message).toBe(
      'x.yaml:9:11: sonobuoy-config.driver must be Job or DaemonSet, not "Pod"',
    );
  });

  it('rejects two documents with the same plugin name', () => {
    const err = errorOf(`${CFG}${SPEC}---\n${CFG}${SPEC}`);
    expect(err.code).toBe('FATHOM_PLUGIN_DUPLICATE');
    expect(err.message).toBe(
      'plugin name "p" is used twice: x.yaml:3:16 and x.yaml:9:16 (rename one with --plugin FILE@NEWNAME)',
    );
  });

  it('gives the error details as structured fields', () => {
    const err = errorOf(`sonobuoy-config:\n  driver: Foo\n  plugin-name: p\n${SPEC}`);
    expect(err.details).toEqual({
      file: 'x.yaml',
      line: 2,
      column: 11,
      field: 'sonobuoy-config.driver',
    });
  });
});
