import { describe, expect, it } from 'vitest';
import {
  nodeMatches,
  type ClusterNode,
  type NodePlacement,
  type NodeSelectorTerm,
} from './nodes.js';

const nodes: ClusterNode[] = [
  { name: 'n1', labels: { zone: 'a', cores: '8' } },
  { name: 'n2', labels: { zone: 'b', cores: '2', gpu: '' } },
  { name: 'n3', labels: { zone: 'a', cores: 'many' } },
];

const term = (t: Partial<NodeSelectorTerm>): NodeSelectorTerm => ({
  matchExpressions: [],
  matchFields: [],
  ...t,
});

const on = (placement: NodePlacement): string[] =>
  nodes.filter((n) => nodeMatches(placement, n)).map((n) => n.name);

// Plugin definitions decoded from YAML are covered in src/plugin/expected-results.test.ts.
describe('nodeMatches', () => {
  it('needs every nodeSelector label, an empty value included', () => {
    expect(on({ nodeSelector: {} })).toEqual(['n1', 'n2', 'n3']);
    expect(on({ nodeSelector: { zone: 'a', cores: '8' } })).toEqual(['n1']);
    expect(on({ nodeSelector: { gpu: '' } })).toEqual(['n2']);
  });

  it('ORs affinity terms, ANDs their requirements, and an empty term matches nothing', () => {
    const inZone = (z: string): NodeSelectorTerm =>
      term({ matchExpressions: [{ key: 'zone', operator: 'In', values: [z] }] });
    expect(on({ nodeSelector: {}, requiredNodeAffinity: [inZone('b'), term({})] })).toEqual(['n2']);
    expect(on({ nodeSelector: {}, requiredNodeAffinity: [term({})] })).toEqual([]);
    expect(on({ nodeSelector: {}, requiredNodeAffinity: [] })).toEqual(['n1', 'n2', 'n3']);
    const both = term({
      matchExpressions: [
        { key: 'zone', operator: 'In', values: ['a'] },
        { key: 'cores', operator: 'Exists', values: [] },
      ],
      matchFields: [{ key: 'metadata.name', operator: 'NotIn', values: ['n1'] }],
    });
    expect(on({ nodeSelector: {}, requiredNodeAffinity: [both] })).toEqual(['n3']);
  });

  it('compares Gt and Lt as integers; a non-number never matches', () => {
    const cmp = (operator: 'Gt' | 'Lt', v: string): string[] =>
      on({
        nodeSelector: {},
        requiredNodeAffinity: [
          term({ matchExpressions: [{ key: 'cores', operator, values: [v] }] }),
        ],
      });
    expect(cmp('Gt', '3')).toEqual(['n1']);
    expect(cmp('Lt', '10')).toEqual(['n1', 'n2']);
    expect(cmp('Gt', 'x')).toEqual([]);
  });
});
