/** The sessions domain: the pure core (the Session object, pools, reservations, admission, health), its store, the executor and the controller. */
export * from './types.js';
export {
  decodeSession,
  needsOf,
  parseSessionText,
  sessionDefaults,
  sessionLimits,
  timeoutMs,
  ttlMs,
} from './spec.js';
export type { SessionParseOptions } from './spec.js';
export { conditionsFor, nextStatus } from './status.js';
export { defaultPoolLabel, poolsFromNodes } from './pools.js';
export type { Pools } from './pools.js';
export { originalMessage, refusal, Reservations } from './reservations.js';
export type {
  Assignment,
  LostNodes,
  PoolCounts,
  PoolUsage,
  Refusal,
  ReserveError,
  ReserveResult,
} from './reservations.js';
export { admit, compareQueued, insertQueued, queuedFrom } from './queue.js';
export type {
  Admission,
  AdmissionState,
  AdmitOptions,
  QueuedSession,
  RunningSession,
} from './queue.js';
export {
  componentHealth,
  containerStartReasons,
  diagnose,
  imagePullReasons,
  judgeSession,
  timeoutJudgement,
} from './health.js';
export type {
  ComponentHealth,
  Diagnosis,
  Health,
  Instance,
  Judgement,
  ObservedContainer,
  Terminated,
} from './health.js';
export { eventMessages, mayFollow, orderProblem, stateAfter } from './events.js';
export type { SessionEvent, SessionEventKind } from './events.js';
export {
  driverEnv,
  provisioningGroups,
  provisionRank,
  workloadFor,
  workloadName,
} from './instances.js';
export type { ComponentInstance } from './instances.js';
export { sessionStatusSchema, sessionStoreLimits, sessionStoreOver, withStatus } from './store.js';
export type { ComponentLog, SessionStore, StoredSession } from './store.js';
export { placements, SessionExecutor } from './executor.js';
export type { ExecutorOptions, ExecutorResult, Verdict } from './executor.js';
export { SessionController } from './controller.js';
export { storeQueued } from './submit.js';
export type { ControllerOptions } from './controller.js';
export { reconcile } from './recovery.js';
export {
  claimHolder,
  claimKey,
  claimKeyPrefix,
  claimLimits,
  claimQueued,
  claimRunOf,
  claimStoreOver,
  claimStates,
  reconcileClaims,
  runMessage,
  runPoolNodes,
} from './claims.js';
export type { ClaimPlan, ClaimsKnown, ClaimState, ClaimStore, PoolClaim } from './claims.js';
export { ClaimKeeper } from './claim-keeper.js';
export { checkClaimRunName, waitForClaim, waitingLine } from './claim-wait.js';
export type { ClaimWaitRequest, ClaimWaitSite } from './claim-wait.js';
export type { Known, Reconciliation } from './recovery.js';
export { SessionsClient } from './client.js';
export type { SessionsClientOptions } from './client.js';
export { runControllerDaemon } from './daemon.js';
export type { ControllerDaemonOptions, ControllerLog, ControllerSite } from './daemon.js';
