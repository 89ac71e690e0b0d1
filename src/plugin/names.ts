import type { YAMLError } from 'yaml';
import { parseAllDocuments } from 'yaml';

/** Names and small shared helpers of the plugin domain. */

/** Kubernetes' RFC 1123 subdomain rule, which Sonobuoy applies to plugin names. */
const subdomain = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** The name Sonobuoy reserves for the aggregator itself (e.g. `--plugin-env sonobuoy.K=V`). */
export const RESERVED_PLUGIN_NAME = 'sonobuoy';

/** Why `name` cannot be a plugin name, or undefined when it can. */
export function pluginNameProblem(name: string): string | undefined {
  if (name === '') return 'must not be empty';
  if (name.length > 253 || !subdomain.test(name)) {
    return `"${name}" is invalid: use lowercase letters, digits, '-' and '.' (an RFC 1123 subdomain, as Kubernetes requires)`;
  }
  if (name === RESERVED_PLUGIN_NAME) return `"${name}" is reserved for the aggregator`;
  return undefined;
}

/** Keys of a ConfigMap become file names in SONOBUOY_CONFIG_DIR, so they must be safe single segments. */
export function configMapKeyProblem(key: string): string | undefined {
  if (key === '.' || key === '..' || key.length > 253 || !/^[-._a-zA-Z0-9]+$/.test(key)) {
    return `key "${key}" is not a valid file name (letters, digits, '-', '_' and '.')`;
  }
  return undefined;
}

/** Environment variable names as Kubernetes accepts them. */
export function envNameProblem(name: string): string | undefined {
  if (!/^[-._a-zA-Z][-._a-zA-Z0-9]*$/.test(name)) {
    return `"${name}" is not a valid environment variable name`;
  }
  return undefined;
}

/** Config-map entries whose contents Sonobuoy parses as YAML. */
export function isYamlConfigKey(key: string): boolean {
  return /\.(ya?ml|json)$/.test(key);
}

/**
 * The first syntax error of a config-map entry Sonobuoy would parse as YAML. Duplicate keys
 * and several documents are accepted, as Go's non-strict decoder accepts them.
 */
export function yamlContentError(text: string): YAMLError | undefined {
  for (const doc of parseAllDocuments(text, { uniqueKeys: false })) {
    if (doc.errors[0]) return doc.errors[0];
  }
  return undefined;
}

/** Freezes a plain value tree in place so loaded definitions cannot be changed by callers. */
export function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value as object)) deepFreeze(child);
  }
  return value;
}
