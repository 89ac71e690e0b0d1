import { describe, expect, it } from 'vitest';
import {
  DEFAULT_POD_LOG_LIMIT_BYTES,
  DEFAULT_SNAPSHOT_CONFIG,
  labelSelectorProblem,
  parseResources,
  readSnapshotConfig,
  sonobuoyConfigKeys,
} from './config.js';

const source = { where: 'meta/config.json', code: 'FATHOM_RESULTS_INVALID' as const };

describe('snapshot config', () => {
  it('parses --resources into distinct names, refusing what is not a resource name', () => {
    expect(parseResources('pods, nodes,podlogs,pods')).toEqual(['pods', 'nodes', 'podlogs']);
    expect(() => parseResources('Pods')).toThrow(/--resources: "Pods" is not a resource name/);
    expect(() => parseResources(' , ')).toThrow(/--resources: expected resource names/);
  });

  it.each([
    ['', undefined],
    ['app=web', undefined],
    ['app==web,tier!=db', undefined],
    ['!canary, env in (prod, staging),zone notin ()', undefined],
    ['example.com/role', undefined],
    ['replicas>2', undefined],
    ['app=', undefined],
    ['app=a b', 'not a requirement'],
    ['=web', 'not a requirement'],
    ['app in (a,b c)', 'is not a label value'],
    ['Bad_Prefix.com/x=1', 'is not a label key'],
    ['a,,b', 'an empty requirement'],
    ['replicas>two', 'is not a whole number'],
  ])('label selector %j: %s', (selector, problem) => {
    const got = labelSelectorProblem(selector);
    if (problem === undefined) expect(got).toBeUndefined();
    else expect(got).toContain(problem);
  });

  it("takes Sonobuoy's defaults for what is absent, and bounds logs at 8 MiB", () => {
    const c = readSnapshotConfig({}, source);
    expect(c).toEqual(DEFAULT_SNAPSHOT_CONFIG);
    expect(c.Limits.PodLogs.LimitBytes).toBe(DEFAULT_POD_LOG_LIMIT_BYTES);
    expect(Object.isFrozen(c.Limits.PodLogs)).toBe(true);
    const json = JSON.parse(JSON.stringify(sonobuoyConfigKeys(c))) as unknown;
    expect(readSnapshotConfig(json, source)).toEqual(c);
  });

  it('reads a config back as written: a list, filters, null limits', () => {
    const c = readSnapshotConfig(
      {
        Resources: ['pods', 'secrets'],
        Filters: { Namespaces: '^fathom', LabelSelector: 'app=x' },
        Limits: {
          PodLogs: { TailLines: 10, LimitBytes: null, FieldSelectors: ['status.phase=Running'] },
        },
      },
      source,
    );
    expect(c.Resources).toEqual(['pods', 'secrets']);
    expect(c.Filters).toEqual({ Namespaces: '^fathom', LabelSelector: 'app=x' });
    expect(c.Limits.PodLogs).toMatchObject({
      Namespaces: 'kube-system',
      SonobuoyNamespace: true,
      TailLines: 10,
      LimitBytes: null,
      FieldSelectors: ['status.phase=Running'],
    });
  });

  it.each([
    [
      { Filters: { Namespaces: '(' } },
      'meta/config.json: Filters.Namespaces: not a regular expression',
    ],
    [
      { Limits: { PodLogs: { Namespaces: '[' } } },
      'Limits.PodLogs.Namespaces: not a regular expression',
    ],
    [{ Filters: { LabelSelector: 'a b' } }, 'Filters.LabelSelector: not a label selector'],
    [
      { Limits: { PodLogs: { LabelSelector: '=x' } } },
      'Limits.PodLogs.LabelSelector: not a label selector',
    ],
    [{ Limits: { PodLogs: { SinceSeconds: 5, SinceTime: '2026-01-01T00:00:00Z' } } }, 'not both'],
    [{ Limits: { PodLogs: { SinceTime: 'yesterday' } } }, 'not an RFC 3339 time'],
    [
      { Limits: { PodLogs: { TailLines: -1 } } },
      'Limits.PodLogs.TailLines: must be a whole number',
    ],
    [{ Resources: 'pods' }, 'Resources: must be a list of strings'],
    [{ Resources: ['Pods'] }, 'Resources: "Pods" is not a resource name'],
  ])('refuses %j', (value, message) => {
    expect(() => readSnapshotConfig(value, source)).toThrow(message);
  });
});
