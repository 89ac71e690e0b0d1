/**
 * `fathom results` for the run's cluster health (`meta/clusterhealth.json`): the "Run Details"
 * text of report mode and the YAML of dump mode, in Sonobuoy's layout.
 */
import { yamlString } from '../../results/yamlout.js';
import {
  errorFiles,
  healthPercent,
  unhealthy,
  type ClusterHealth,
  type HealthCounts,
  type HealthDetail,
} from '../../web/report/index.js';

function ratio(c: HealthCounts): string {
  const pct = healthPercent(c);
  return `${c.healthy_nodes}/${c.total_nodes}${pct === undefined ? '' : ` (${pct}%)`}`;
}

function problem(d: HealthDetail, withNamespace: boolean): string {
  const name = withNamespace ? `${d.namespace ?? ''}/${d.name}` : d.name;
  return `${name} Ready:${d.ready}: ${d.reason ?? ''}: ${d.message ?? ''}\n`;
}

/** The "Run Details:" block that ends `results` in report mode. */
export function formatRunDetails(h: ClusterHealth): string {
  let out = `Run Details:\nAPI Server version: ${h.api_version}\n`;
  out += `Node health: ${ratio(h.node_health)}\n`;
  const nodes = h.node_health;
  if (nodes.details?.length && nodes.healthy_nodes < nodes.total_nodes) {
    out += 'Details for failed nodes:\n';
    for (const d of unhealthy(nodes.details)) out += problem(d, false);
    out += '\n';
  }
  const pods = h.pod_health;
  if (pods.details?.length) {
    out += `Pods health: ${ratio(pods)}\n`;
    if (pods.healthy_nodes < pods.total_nodes) {
      out += 'Details for failed pods:\n';
      for (const d of unhealthy(pods.details)) out += problem(d, true);
    }
  }
  const errors = errorFiles(h.error_summary);
  if (errors.length) {
    out += 'Errors detected in files:\n';
    for (const { type, files } of errors) {
      const width = String(files[0]!.count).length;
      out += `${type}:\n`;
      for (const f of files) out += `${String(f.count).padStart(width)} ${f.file}\n`;
    }
  }
  return out;
}

function countsYaml(c: HealthCounts, ind: string): string {
  let out = `${ind}total_nodes: ${c.total_nodes}\n${ind}healthy_nodes: ${c.healthy_nodes}\n`;
  if (c.details?.length) {
    out += `${ind}details:\n`;
    for (const d of c.details) {
      out += `${ind}- name: ${yamlString(d.name)}\n`;
      out += `${ind}  healthy: ${d.healthy}\n${ind}  ready: ${yamlString(d.ready)}\n`;
      for (const k of ['reason', 'message', 'namespace'] as const) {
        if (d[k]) out += `${ind}  ${k}: ${yamlString(d[k])}\n`;
      }
    }
  }
  return out;
}

/** The summary as YAML, fields in Sonobuoy's order (long strings are not folded as yaml.v2 does). */
export function healthYaml(h: ClusterHealth): string {
  let out = `node_health:\n${countsYaml(h.node_health, '  ')}`;
  out += `pod_health:\n${countsYaml(h.pod_health, '  ')}`;
  out += `api_version: ${yamlString(h.api_version)}\n`;
  const types = Object.keys(h.error_summary).sort();
  if (types.length === 0) return `${out}error_summary: {}\n`;
  out += 'error_summary:\n';
  for (const t of types) {
    const files = Object.keys(h.error_summary[t]!).sort();
    if (files.length === 0) {
      out += `  ${yamlString(t)}: {}\n`;
      continue;
    }
    out += `  ${yamlString(t)}:\n`;
    for (const f of files) out += `    ${yamlString(f)}: ${h.error_summary[t]![f]}\n`;
  }
  return out;
}
