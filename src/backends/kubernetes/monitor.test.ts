import { describe, expect, it } from 'vitest';
import { noJobPodMessage, noPodMessage, podProblem } from './monitor.js';
import type { ContainerStatusWire, Pod, PodCondition } from './api/types.js';

const NOW = Date.parse('2026-03-01T12:00:00Z');
const ago = (ms: number): string => new Date(NOW - ms).toISOString();
const MIN = 60_000;

function pod(status: {
  conditions?: PodCondition[];
  containerStatuses?: ContainerStatusWire[];
  startTime?: string;
}): Pod {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, status };
}

describe('podProblem (Sonobuoy IsPodFailing)', () => {
  it.each<[string, Pod, string | undefined]>([
    [
      'a healthy running pod',
      pod({ containerStatuses: [{ name: 'plugin', restartCount: 0, state: { running: {} } }] }),
      undefined,
    ],
    [
      'an Unschedulable condition',
      pod({
        conditions: [
          {
            type: 'PodScheduled',
            status: 'False',
            reason: 'Unschedulable',
            message:
              "0/5 nodes are available: 5 node(s) didn't match Pod's node affinity/selector.",
          },
        ],
      }),
      "Can't schedule pod: 0/5 nodes are available: 5 node(s) didn't match Pod's node affinity/selector.",
    ],
    ['two restarts', pod({ containerStatuses: [{ name: 'plugin', restartCount: 2 }] }), undefined],
    [
      'three restarts',
      pod({ containerStatuses: [{ name: 'plugin', restartCount: 3 }] }),
      'Container plugin has restarted unsuccessfully 3 times',
    ],
    [
      'an image pull back-off within 5 minutes',
      pod({
        startTime: ago(4 * MIN),
        containerStatuses: [
          { name: 'plugin', image: 'x:1', state: { waiting: { reason: 'ImagePullBackOff' } } },
        ],
      }),
      undefined,
    ],
    [
      'an image pull back-off after 5 minutes',
      pod({
        startTime: ago(5 * MIN + 1),
        containerStatuses: [
          { name: 'plugin', image: 'x:1', state: { waiting: { reason: 'ErrImagePull' } } },
        ],
      }),
      'Failed to pull image x:1 for container plugin within 5m0s. Container is in state ErrImagePull',
    ],
    [
      'a container that ended 4 minutes ago',
      pod({
        containerStatuses: [
          { name: 'plugin', state: { terminated: { exitCode: 1, finishedAt: ago(4 * MIN) } } },
        ],
      }),
      undefined,
    ],
    [
      'a container that ended over 5 minutes ago',
      pod({
        containerStatuses: [
          {
            name: 'plugin',
            state: {
              terminated: {
                exitCode: 137,
                reason: 'OOMKilled',
                message: 'out of memory',
                finishedAt: ago(6 * MIN),
              },
            },
          },
        ],
      }),
      'Container plugin is in a terminated state (exit code 137) due to reason: OOMKilled: out of memory',
    ],
  ])('%s', (_name, p, want) => {
    expect(podProblem(p, NOW)).toBe(want);
  });

  it('checks conditions before containers, and containers in order', () => {
    const p = pod({
      conditions: [
        { type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: 'm' },
      ],
      containerStatuses: [
        { name: 'a', restartCount: 5 },
        { name: 'b', restartCount: 9 },
      ],
    });
    expect(podProblem(p, NOW)).toBe("Can't schedule pod: m");
    delete p.status!.conditions;
    expect(podProblem(p, NOW)).toBe('Container a has restarted unsuccessfully 5 times');
  });

  it('honours shorter limits', () => {
    const p = pod({
      containerStatuses: [
        { name: 'plugin', state: { terminated: { exitCode: 0, finishedAt: ago(2000) } } },
      ],
    });
    expect(podProblem(p, NOW, { imagePullGraceMs: 1000, terminatedGraceMs: 1000 })).toBe(
      'Container plugin is in a terminated state (exit code 0) due to reason: : ',
    );
  });
});

describe('Sonobuoy messages for missing pods', () => {
  it('formats the elapsed time as Go does', () => {
    expect(noPodMessage('kwok-special-0', 61_500, 'inventory')).toBe(
      'No pod was scheduled on node kwok-special-0 within 1m1.5s. Check tolerations for plugin inventory',
    );
    expect(noJobPodMessage('e2e')).toBe('no pods were created by plugin e2e');
  });
});
