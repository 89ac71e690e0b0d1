import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FathomError } from '../core/errors.js';
import { compute } from './compute.js';
import { compileRuleSources, loadReadinessRules, parseReadinessRules } from './rules.js';
import type { KubeObject } from './types.js';
import { cond, cur, failedResult, ip, obj } from './test-helpers.js';

const certificateRules = `# cert-manager, after Flux's CEL cheatsheet
rules:
  - apiVersion: cert-manager.io/v1
    kind: Certificate
    inProgress: "status.?conditions.orValue([]).exists(c, c.type == 'Issuing' && c.status == 'True')"
    failed: "status.?conditions.orValue([]).exists(c, c.type == 'Ready' && c.status == 'False')"
    current: "status.?conditions.orValue([]).exists(c, c.type == 'Ready' && c.status == 'True')"
`;

const cert = (parts: Record<string, unknown> = {}): KubeObject =>
  obj('cert-manager.io/v1', 'Certificate', parts);

function errorOf(fn: () => unknown): FathomError {
  try {
    fn();
  } catch (err) {
    if (err instanceof FathomError) return err;
    throw err;
  }
  throw new Error('expected a FathomError');
}

describe('readiness rules: evaluation', () => {
  const rules = parseReadinessRules(certificateRules, 'rules.yaml');
  const run = (o: KubeObject) => compute(o, { rules });

  it('evaluates inProgress, failed, current in that order', () => {
    const both = cert({ status: { conditions: [cond('Ready', 'True'), cond('Issuing', 'True')] } });
    expect(run(both)).toEqual(ip('RuleInProgress', 'Rule "inProgress" matched'));
    const failed = cert({ status: { conditions: [cond('Ready', 'False')] } });
    expect(run(failed)).toEqual(failedResult('RuleFailed', 'Rule "failed" matched'));
    const ready = cert({ status: { conditions: [cond('Ready', 'True')] } });
    expect(run(ready)).toEqual(cur('Rule "current" matched'));
  });

  it('none true is InProgress: a fresh CR with no status is not Current (cluster-api#9299)', () => {
    expect(run(cert())).toEqual(ip('NoRuleMatched', 'No rule matched yet'));
    expect(compute(cert())).toEqual(cur('Resource is current'));
  });

  it("kstatus's generic steps come first", () => {
    expect(run(cert({ metadata: { deletionTimestamp: 't' } })).status).toBe('Terminating');
    const stale = cert({
      metadata: { generation: 2 },
      status: { observedGeneration: 1, conditions: [cond('Ready', 'True')] },
    });
    expect(run(stale)).toEqual(
      ip(
        'LatestGenerationNotObserved',
        'Certificate generation is 2, but latest observed generation is 1',
      ),
    );
    const stalled = cert({ status: { conditions: [cond('Stalled', 'True', 'S', 'stuck')] } });
    expect(run(stalled)).toEqual(failedResult('S', 'stuck'));
  });

  it('matches on group and kind, not version; other kinds are untouched', () => {
    const v1alpha2 = obj('cert-manager.io/v1alpha2', 'Certificate', {
      status: { conditions: [cond('Ready', 'True')] },
    });
    expect(run(v1alpha2)).toEqual(cur('Rule "current" matched'));
    const issuer = obj('cert-manager.io/v1', 'Issuer', {
      status: { conditions: [cond('Ready', 'False', 'R', 'M')] },
    });
    expect(run(issuer)).toEqual(ip('R', 'M'));
    expect(rules.ruleFor({ group: 'cert-manager.io', kind: 'Certificate' })?.source).toBe(
      'rules.yaml:3',
    );
  });

  it('the fresh guard does not apply to kinds with a rule', () => {
    const ready = cert({ status: { conditions: [cond('Ready', 'True')] } });
    expect(compute(ready, { rules, freshGuard: 'ready' }).status).toBe('Current');
  });

  it('sees integers as CEL ints, and the message expression gives the message', () => {
    const set = parseReadinessRules(
      `- apiVersion: example.com/v1
  kind: Pool
  current: "status.readyReplicas + 1 > spec.replicas && self.metadata.name == 'x'"
  failed: "has(self.status) && status.?phase.orValue('') == 'Failed'"
  message: "'ready ' + string(status.?readyReplicas.orValue(0)) + '/' + string(spec.replicas)"
`,
      'pool.yaml',
    );
    const pool = (status?: Record<string, unknown>): KubeObject =>
      obj('example.com/v1', 'Pool', { spec: { replicas: 3 }, status });
    expect(compute(pool({ readyReplicas: 3 }), { rules: set })).toEqual(cur('ready 3/3'));
    expect(compute(pool({ readyReplicas: 1 }), { rules: set })).toEqual(
      ip('NoRuleMatched', 'ready 1/3'),
    );
    expect(compute(pool({ readyReplicas: 1, phase: 'Failed' }), { rules: set })).toEqual(
      failedResult('RuleFailed', 'ready 1/3'),
    );
    // A bigint from a YAML parser reads the same as a number.
    expect(compute(pool({ readyReplicas: 3n }), { rules: set }).status).toBe('Current');
  });

  it('a message expression that fails or gives "" falls back to the default message', () => {
    const set = parseReadinessRules(
      `- apiVersion: example.com/v1
  kind: Thing
  current: "true"
  message: "status.note"
`,
      'm.yaml',
    );
    expect(compute(obj('example.com/v1', 'Thing'), { rules: set })).toEqual(
      cur('Rule "current" matched'),
    );
    expect(
      compute(obj('example.com/v1', 'Thing', { status: { note: '' } }), { rules: set }),
    ).toEqual(cur('Rule "current" matched'));
  });

  it('an evaluation error makes the object Unknown, naming the rule', () => {
    const set = parseReadinessRules(
      `rules:
- apiVersion: example.com/v1
  kind: Thing
  current: "status.conditions.exists(c, c.type == 'Ready')"
`,
      'strict.yaml',
    );
    expect(compute(obj('example.com/v1', 'Thing'), { rules: set })).toMatchObject({
      status: 'Unknown',
      message:
        'readiness rule for Thing.example.com (strict.yaml:2): current: No such key: conditions',
    });
  });

  it('a non-bool at run time is an error too', () => {
    const set = parseReadinessRules(
      `[{apiVersion: example.com/v1, kind: Thing, current: "status.phase"}]`,
      'dyn.yaml',
    );
    expect(
      compute(obj('example.com/v1', 'Thing', { status: { phase: 'Running' } }), { rules: set }),
    ).toMatchObject({
      status: 'Unknown',
      message:
        'readiness rule for Thing.example.com (dyn.yaml:1): current: gave string, not a bool',
    });
  });
});

describe('readiness rules: the file is checked with file:line:col errors', () => {
  const bad = (text: string): string => errorOf(() => parseReadinessRules(text, 'r.yaml')).message;

  it('YAML syntax', () => {
    const err = errorOf(() => parseReadinessRules('rules:\n  - kind: [a\n', 'r.yaml'));
    expect(err.code).toBe('FATHOM_YAML_SYNTAX');
    expect(err.message).toMatch(/^r\.yaml:\d+:\d+: /);
  });

  it('CEL errors point at the column inside the expression', () => {
    const text = `rules:
  - apiVersion: example.com/v1
    kind: Thing
    current: "stauts.phase == 'x'"
`;
    const err = errorOf(() => parseReadinessRules(text, 'r.yaml'));
    expect(err.code).toBe('FATHOM_CONFIG_INVALID');
    expect(err.message).toBe(
      'r.yaml:4:15: rules[0].current does not compile: Unknown variable: stauts',
    );
    expect(bad(text.replace(`"stauts.phase == 'x'"`, 'status.phase ==    '))).toBe(
      'r.yaml:4:29: rules[0].current does not compile: Unexpected token: EOF',
    );
  });

  it('a block scalar points at the field', () => {
    const text = `- apiVersion: example.com/v1
  kind: Thing
  current: >-
    status.phase ==
`;
    expect(bad(text)).toMatch(/^r\.yaml:3:12: \[0\]\.current does not compile: /);
  });

  it('expressions must give a bool (message: a string)', () => {
    const base = '- apiVersion: example.com/v1\n  kind: Thing\n';
    expect(bad(`${base}  current: "1 + 2"\n`)).toBe(
      'r.yaml:3:13: [0].current does not compile: must give a bool, but gives int',
    );
    expect(bad(`${base}  current: "true"\n  message: "1 == 1"\n`)).toBe(
      'r.yaml:4:13: [0].message does not compile: must give a string, but gives bool',
    );
  });

  it('required, typed and known fields', () => {
    expect(bad('- apiVersion: example.com/v1\n  kind: Thing\n')).toBe(
      'r.yaml:1:3: [0] needs "current", a CEL expression',
    );
    expect(bad('- kind: Thing\n  current: "true"\n')).toBe('r.yaml:1:3: [0] needs "apiVersion"');
    expect(bad('- apiVersion: a/b/c\n  kind: Thing\n  current: "true"\n')).toBe(
      'r.yaml:1:15: [0].apiVersion "a/b/c" is not group/version or version',
    );
    expect(bad('- apiVersion: example.com/v1\n  kind: 3\n  current: "true"\n')).toBe(
      'r.yaml:2:9: [0].kind must be a non-empty string',
    );
    expect(bad('- apiVersion: example.com/v1\n  kind: T\n  current: true\n')).toBe(
      'r.yaml:3:12: [0].current must be a non-empty string holding a CEL expression',
    );
    expect(
      bad('- apiVersion: example.com/v1\n  kind: T\n  current: "true"\n  healthy: "x"\n'),
    ).toBe(
      'r.yaml:4:12: [0].healthy is not a rule field (apiVersion, kind, current, inProgress, failed, message)',
    );
    expect(bad('- 3\n')).toBe(
      'r.yaml:1:3: [0] must be a mapping with apiVersion, kind and current',
    );
    expect(bad('rules: 3\n')).toBe(
      'r.yaml:1:8: rules must be a list of rules (apiVersion, kind, current...)',
    );
    expect(bad('checks: []\n')).toBe('r.yaml:1:9: checks is not a field of a rules file (rules)');
    expect(bad('just text\n')).toBe(
      'r.yaml:1:1: must be a list of rules or a mapping with "rules"',
    );
  });

  it('a kind given twice names both places, across documents and files', () => {
    const one = '- apiVersion: example.com/v1\n  kind: Thing\n  current: "true"\n';
    expect(
      bad(`${one}---\n- apiVersion: example.com/v2\n  kind: Thing\n  current: "false"\n`),
    ).toBe('r.yaml:5: a second rule for Thing.example.com (the first is at r.yaml:1)');
    const err = errorOf(() =>
      compileRuleSources([
        { text: one, file: 'a.yaml' },
        { text: one, file: 'b.yaml' },
      ]),
    );
    expect(err.message).toBe(
      'b.yaml:1: a second rule for Thing.example.com (the first is at a.yaml:1)',
    );
  });

  it('empty documents and an empty rules list are fine', () => {
    expect(parseReadinessRules('', 'e.yaml').rules).toEqual([]);
    expect(parseReadinessRules('---\nrules:\n---\n', 'e.yaml').rules).toEqual([]);
  });
});

describe('loadReadinessRules', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'fathom-rules-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('reads and compiles files', async () => {
    const file = path.join(dir, 'certs.yaml');
    await writeFile(file, certificateRules);
    const rules = await loadReadinessRules([file]);
    expect(rules.rules.map((r) => `${r.kind}.${r.group}@${r.source}`)).toEqual([
      `Certificate.cert-manager.io@${file}:3`,
    ]);
  });

  it('a missing file is FATHOM_CONFIG_INVALID naming it', async () => {
    const missing = path.join(dir, 'nope.yaml');
    await expect(loadReadinessRules([missing])).rejects.toMatchObject({
      code: 'FATHOM_CONFIG_INVALID',
      message: expect.stringContaining(`${missing}: cannot read the rules file`),
    });
  });
});
