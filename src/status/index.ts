/**
 * Status: kstatus-exact readiness for any Kubernetes object, CEL readiness rules for custom
 * resources, a polling engine, and the pieces of `fathom health`.
 *
 * Computing (pure):
 * - `compute(object, { rules?, freshGuard?, now? }) → { status, message, conditions, error? }` —
 *   kstatus's rules and messages; never throws (malformed objects are `Unknown`).
 * - `augment(object, options) → { object, result }` — a copy with Reconciling/Stalled merged in.
 *
 * Readiness rules (CEL, per apiVersion/kind; the file format is documented in rules.ts):
 * - `parseReadinessRules(text, file)`, `compileRuleSources([{ text, file }])`,
 *   `loadReadinessRules(paths)` → `ReadinessRules`, passed as `ComputeOptions.rules`.
 * - `freshGuard: 'status' | 'ready'` — cluster-api#9299: a fresh CR is not Current.
 *
 * Polling:
 * - `ClusterReader` — the contract a backend implements: `get(id) → object | undefined`,
 *   `list(groupKind, namespace, selector?) → objects`, optional `sync()`.
 * - `createCachingClusterReader(reader, ids)` (default; one LIST per (GroupKind, namespace) per
 *   cycle, generated kinds included — see `cacheScopes`), `createDirectClusterReader(reader)`.
 * - `createStatusPoller(reader, { statusReaders?, clusterReaderFactory?, compute?, scopeOf? })
 *   .poll(ids, { pollInterval, signal, clock }) → AsyncIterable<PollEvent>` where an event is
 *   `ResourceUpdate` (on change only), `Sync` (once, after the first cycle) or `Error` (fatal).
 * - `aggregateStatus(statuses, 'Current' | 'NotFound')`, `createStatusCollector(ids)`.
 * - `createMemoryClusterReader(objects)` — an in-memory cluster that counts requests.
 * - `watchStatus(poller, ids, { until, pollInterval, timeoutMs?, clock, signal? }, onUpdate)
 *   → WatchOutcome` — `fathom health --watch`: poll until the aggregate verdict is the desired
 *   one (`until`: current | deleted | forever), a timeout, the signal or a fatal error.
 * - `identifiersOf(objects, { defaultNamespace, scopeOf })` — manifest objects to identifiers,
 *   namespaces resolved as kubectl does.
 *
 * `fathom health -f` helpers:
 * - `readManifests(paths, { stdin, recursive })` / `parseManifests(stream, file)` →
 *   `AsyncGenerator<{ object, file, line }>` (YAML or JSON, multi-document, Lists expanded,
 *   streamed); errors are FathomError with `file:line`.
 * - `healthRow(object, options) → { apiVersion, kind, namespace, name, status, message }`,
 *   `healthRows(objects, options)`.
 */
export * from './types.js';
export {
  augment,
  compute,
  hasBuiltinRule,
  isBuiltinGroup,
  type AugmentResult,
  type ComputeOptions,
  type CustomRule,
  type CustomRules,
  type FreshGuard,
} from './compute.js';
export { SCHEDULE_WINDOW_MS } from './core-kinds.js';
export {
  compileRuleSources,
  loadReadinessRules,
  parseReadinessRules,
  type ReadinessRule,
  type ReadinessRules,
} from './rules.js';
export {
  cacheScopes,
  createCachingClusterReader,
  createDirectClusterReader,
  isAbortError,
  type CacheScope,
  type ClusterReader,
  type ClusterReaderFactory,
} from './reader.js';
export {
  createMemoryClusterReader,
  type MemoryClusterReader,
  type RequestCounts,
} from './memory.js';
export {
  createDeploymentStatusReader,
  createGenericStatusReader,
  createPodControllerStatusReader,
  createDaemonSetStatusReader,
  defaultStatusReaders,
  sortStatuses,
  type StatusReader,
} from './status-readers.js';
export {
  createStatusPoller,
  resourceStatusEqual,
  type PollOptions,
  type StatusPoller,
  type StatusPollerOptions,
} from './poller.js';
export {
  aggregateStatus,
  createStatusCollector,
  type DesiredStatus,
  type Observation,
  type StatusCollector,
} from './aggregator.js';
export { formatSelector, matchesSelector, selectorOf } from './selector.js';
export {
  desiredOf,
  identifiersOf,
  watchStatus,
  WATCH_UNTIL,
  type ResourceScope,
  type WatchEnd,
  type WatchOptions,
  type WatchOutcome,
  type WatchUntil,
  type WatchUpdate,
} from './watch.js';
export { formatGroupKind, groupKindOf, identifierOf, identifierKey } from './fields.js';
export {
  healthRow,
  healthRows,
  manifestFiles,
  parseManifests,
  readManifests,
  type HealthRow,
  type ManifestObject,
} from './manifests.js';
