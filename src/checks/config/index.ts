/** Check configs: parsing and validation, identity, directories and Kubernetes sources. */
export { canonicalJson, checkIdOf, checkIds, configDigest } from './identity.js';
export { checkDurations, checkLimits } from './limits.js';
export {
  ConfigSet,
  isEmptyChange,
  mergeConfigs,
  type CheckConfigChange,
  type MergedConfigs,
} from './merge.js';
export { configFromWire } from './wire.js';
export { decodeCheck, parseCheckText, readCheckDocuments, type DecodeOptions } from './parse.js';
export {
  loadCheckDir,
  watchCheckDir,
  type CheckDirChange,
  type CheckDirResult,
  type WatchCheckDirOptions,
} from './dir.js';
export {
  checkAnnotationPrefix,
  checksLabel,
  configMapChecks,
  serviceChecks,
  targetsOfEndpoints,
  targetsOfSlices,
  type ConfigMapLike,
  type EndpointSliceLike,
  type EndpointsLike,
  type EndpointTarget,
  type ServiceLike,
  type SourceConfigs,
} from './kube-sources.js';
