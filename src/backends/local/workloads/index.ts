/** The local workload port: what the rest of fathom imports from this folder. */
export { createLocalWorkloadRuntime, type LocalWorkloadOptions } from './runtime.js';
export { workloadNames } from './files.js';
export { workloadPods } from './pods.js';
