/**
 * Flags declared as data, checked through the real command tree: `--aggregator-node-selector`
 * takes Sonobuoy's repeatable `key:value` form and reaches the aggregator pod that `fathom gen`
 * prints; a malformed entry is bad input before anything is generated.
 */
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { runMain, type Printed } from '../../test/support/main.js';

const run = (args: readonly string[]): Promise<Printed> => runMain(args);

const PLUGIN = 'smoke-junit';

function aggregatorPod(yaml: string): { spec: { nodeSelector?: Record<string, string> } } {
  const docs = parseAllDocuments(yaml).map(
    (d) => d.toJS() as { kind: string; metadata: { name: string } },
  );
  const pod = docs.find((d) => d.kind === 'Pod' && d.metadata.name === 'fathom-aggregator');
  if (!pod) throw new Error('no aggregator pod in the output');
  return pod as unknown as { spec: { nodeSelector?: Record<string, string> } };
}

describe('--aggregator-node-selector', () => {
  it('gathers repeated key:value entries into the aggregator pod nodeSelector', async () => {
    const r = await run([
      'gen',
      '-p',
      PLUGIN,
      '--aggregator-node-selector',
      'fathom.test/runner:true',
      '--aggregator-node-selector',
      'pool:tools',
      '--aggregator-node-selector',
      'pool:infra', // the last value of a key wins
    ]);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(aggregatorPod(r.out).spec.nodeSelector).toEqual({
      'fathom.test/runner': 'true',
      pool: 'infra',
    });
  });

  it('leaves the aggregator free to run anywhere when not given, as Sonobuoy does', async () => {
    const r = await run(['gen', '-p', PLUGIN]);
    expect(r.code).toBe(0);
    expect(aggregatorPod(r.out).spec.nodeSelector).toBeUndefined();
  });

  it.each([
    ['no-colon'],
    ['a:b:c'],
    [':value'],
    ['bad key:v'],
    ['key:bad value'],
    [`key:${'v'.repeat(64)}`],
  ])('refuses %j as bad input (exit 2, nothing printed)', async (value) => {
    const r = await run(['gen', '-p', PLUGIN, '--aggregator-node-selector', value]);
    expect(r.code).toBe(2);
    expect(r.out).toBe('');
    expect(r.err).toContain('--aggregator-node-selector: expected key:value');
  });

  it('accepts an empty value, which a label may have', async () => {
    const r = await run(['gen', '-p', PLUGIN, '--aggregator-node-selector', 'dedicated:']);
    expect(r.code).toBe(0);
    expect(aggregatorPod(r.out).spec.nodeSelector).toEqual({ dedicated: '' });
  });
});
