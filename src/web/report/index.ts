/** The results report page: build the model from plugin trees, then render it (pure, no I/O). */
export {
  buildReportModel,
  classify,
  pluginRows,
  GLOBAL,
  type Counts,
  type NodeSummary,
  type PluginInput,
  type PluginSummary,
  type ReportInput,
  type ReportModel,
  type RunMeta,
  type StatusClass,
  type TestRow,
} from './model.js';
export { renderReportHtml, CONTENT_SECURITY_POLICY, type HtmlReportOptions } from './html.js';
export {
  errorFiles,
  healthPercent,
  toClusterHealth,
  unhealthy,
  type ClusterHealth,
  type HealthCounts,
  type HealthDetail,
} from '../../results/health.js';
export { escapeHtml } from './escape.js';
