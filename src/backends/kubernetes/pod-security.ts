/**
 * fathom's own long-running pods (dispatcher, agents, session controller): restricted, and
 * replicas spread over nodes.
 */

/** The restricted Pod Security profile: non-root, no privilege escalation, no capabilities. */
export const POD_SECURITY = {
  runAsNonRoot: true,
  runAsUser: 65532,
  runAsGroup: 65532,
  fsGroup: 65532,
  seccompProfile: { type: 'RuntimeDefault' },
};
export const CONTAINER_SECURITY = {
  allowPrivilegeEscalation: false,
  readOnlyRootFilesystem: true,
  capabilities: { drop: ['ALL'] },
};

/** Replicas on different nodes when they can be, so one node going down does not take both. */
export function spreadOverNodes(matchLabels: Readonly<Record<string, string>>) {
  return {
    podAntiAffinity: {
      preferredDuringSchedulingIgnoredDuringExecution: [
        {
          weight: 100,
          podAffinityTerm: {
            topologyKey: 'kubernetes.io/hostname',
            labelSelector: { matchLabels: { ...matchLabels } },
          },
        },
      ],
    },
  };
}
