/** Results: post-processing plugin output into Item trees, the results tarball, and reading runs back. */
export * from './item.js';
export {
  postProcessAndSummarize,
  postProcessPlugin,
  writePluginResults,
  RESULTS_FILE,
  type ProcessedPlugin,
  type ProcessLimits,
} from './process.js';
export { EXIT_CODE_FILE, writeExitCode } from './raw.js';
export { ERROR_FILE } from './errorfile.js';
export { itemToYaml, writeItemYaml } from './yamlout.js';
export {
  parseItemYaml,
  readItemYaml,
  toItem,
  ItemYamlError,
  type ItemYamlLimits,
} from './manual.js';
export {
  extractResults,
  openResults,
  tarballName,
  writeResultsTarball,
  type ExtractLimits,
  type OpenedResults,
} from './tarball.js';
export {
  detailedLeaves,
  goJson,
  readableText,
  readPluginResults,
  readRunInfo,
  readRunResults,
  reportData,
  resolveLeafFile,
  selectNode,
  stripIt,
  type DetailedLeaf,
  type PluginResults,
  type ReportData,
  type RunResults,
} from './read.js';
export {
  errorFiles,
  healthPercent,
  toClusterHealth,
  unhealthy,
  type ClusterHealth,
  type HealthCounts,
  type HealthDetail,
} from './health.js';
export {
  ResultsReader,
  HEALTH_PLUGIN,
  type HealthFile,
  type OpenReaderOptions,
  type Pieces,
  type RunMeta,
} from './reader.js';
