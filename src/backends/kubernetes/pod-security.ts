/** fathom's own long-running pods (dispatcher, agents, session controller) run restricted. */

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
