/**
 * `fathom gen sessions` through the real command tree: its flags reach the objects it prints, and
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
        containers: { command: string[]; image: string }[];
      };
    };
  };
}

describe('fathom gen sessions', () => {
  it('prints the CRD and the controller with the flags passed through', async () => {
    const r = await run([
      ...['gen', 'sessions', '-n', 'load', '--replicas', '3', '--executors', '4'],
      ...['--pool-label', 'example.com/pool', '--image', 'reg.example/fathom:2'],
      ...['--node-selector', 'role=infra', '--node-selector', 'zone=a'],
      ...['--toleration', 'dedicated=infra:NoSchedule', '--toleration', 'spot'],
    ]);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const docs = parseAllDocuments(r.out).map((d) => d.toJS() as Doc);
    expect(docs[0]!.kind).toBe('CustomResourceDefinition');
    const d = docs.find((x) => x.kind === 'Deployment')!;
    expect(d.metadata).toMatchObject({ name: 'fathom-session-controller', namespace: 'load' });
    expect(d.spec!.replicas).toBe(3);
    const pod = d.spec!.template!.spec;
    expect(pod.containers[0]!.command.join(' ')).toBe(
      'fathom session-controller --backend kubernetes -n load --executors 4 --pool-label example.com/pool',
    );
    expect(pod.containers[0]!.image).toBe('reg.example/fathom:2');
    expect(pod.nodeSelector).toEqual({ role: 'infra', zone: 'a' });
    expect(pod.tolerations).toEqual([
      { key: 'dedicated', operator: 'Equal', value: 'infra', effect: 'NoSchedule' },
      { key: 'spot', operator: 'Exists' },
    ]);
  });

  it('defaults to its own namespace, apart from runs', async () => {
    const r = await run(['gen', 'sessions']);
    expect(r.code).toBe(0);
    const ns = parseAllDocuments(r.out).map((d) => d.toJS() as Doc)[1]!;
    expect(ns).toMatchObject({ kind: 'Namespace', metadata: { name: 'fathom-sessions' } });
  });

  it.each([
    [['--executors', '0'], /^error: --executors: expected a whole number from 1 to 1000/],
    [['--replicas', 'many'], /^error: --replicas: /],
    [['--pool-label', 'bad key'], /^error: --pool-label: expected a label key/],
    [['--node-selector', 'role'], /^error: --node-selector: expected key=value/],
    [['--image-pull-policy', 'Often'], /^error: --image-pull-policy: expected one of/],
  ])('refuses %j: one line, exit 2, nothing to apply', async (flags, message) => {
    const r = await run(['gen', 'sessions', ...flags]);
    expect(r.code).toBe(2);
    expect(r.out).toBe('');
    expect(r.err).toMatch(message);
    expect(r.err.trim().split('\n')).toHaveLength(1);
  });
});
