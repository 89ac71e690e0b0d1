/**
 * `fathom gen checks` through the real command tree: its flags reach the objects it prints, and
 * bad input is one `error:` line, exit 2, with nothing printed to apply.
 */
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { runMain } from '../../../test/support/main.js';

const run = (args: readonly string[]) => runMain(args);

interface Doc {
  kind: string;
  metadata: { name: string; namespace?: string };
  spec?: {
    replicas?: number;
    template?: {
      spec: {
        nodeSelector?: Record<string, string>;
        tolerations?: unknown[];
        containers: { command: string[] }[];
      };
    };
  };
}

describe('fathom gen checks', () => {
  it('prints the objects with the flags passed through', async () => {
    const r = await run([
      'gen',
      'checks',
      '-n',
      'mon',
      '--replicas',
      '3',
      '--strategy',
      'utilization',
      '--node-expiration',
      '3s',
      '--warmup',
      '1s',
      '--node-selector',
      'pool=web',
      '--node-selector',
      'zone=a',
      '--toleration',
      'dedicated=infra:NoSchedule',
      '--image',
      'registry.example/fathom:1',
    ]);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const docs = parseAllDocuments(r.out).map((d) => d.toJS() as Doc);
    expect(docs.map((d) => d.kind)).toContain('DaemonSet');
    const deployment = docs.find((d) => d.kind === 'Deployment')!;
    expect(deployment.metadata.namespace).toBe('mon');
    expect(deployment.spec!.replicas).toBe(3);
    const command = deployment.spec!.template!.spec.containers[0]!.command.join(' ');
    expect(command).toContain('-n mon');
    expect(command).toContain('--node-expiration 3s --warmup 1s --strategy utilization');
    const agents = docs.find((d) => d.kind === 'DaemonSet')!.spec!.template!.spec;
    expect(agents.nodeSelector).toEqual({ pool: 'web', zone: 'a' });
    expect(agents.tolerations).toEqual([
      { key: 'dedicated', operator: 'Equal', value: 'infra', effect: 'NoSchedule' },
    ]);
    expect(r.out).toContain('image: registry.example/fathom:1');
  });

  it('defaults to its own namespace, apart from runs', async () => {
    const r = await run(['gen', 'checks']);
    expect(r.code).toBe(0);
    const ns = parseAllDocuments(r.out).map((d) => d.toJS() as Doc)[0]!;
    expect(ns).toMatchObject({ kind: 'Namespace', metadata: { name: 'fathom-checks' } });
  });

  it.each([
    [['--strategy', 'random'], /^error: --strategy: expected one of count, busyness/],
    [['--warmup', 'soon'], /^error: --warmup: invalid duration "soon"/],
    [['--node-selector', 'pool'], /^error: --node-selector: expected key=value/],
    [['--toleration', 'k:Often'], /^error: --toleration: the effect must be one of/],
    [['--replicas', '0'], /^error: --replicas: /],
  ])('refuses %j: one line, exit 2, nothing to apply', async (flags, message) => {
    const r = await run(['gen', 'checks', ...flags]);
    expect(r.code).toBe(2);
    expect(r.out).toBe('');
    expect(r.err).toMatch(message);
    expect(r.err.trim().split('\n')).toHaveLength(1);
  });
});
