/**
 * How a check config and each of its instances are identified: by hashes of canonical JSON, so
 * the same content gives the same identity in every process, on every replica, after restarts.
 */
import { createHash } from 'node:crypto';
import type { CheckConfig } from '../types.js';

/** JSON with object keys sorted at every level: equal values give equal text. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

function hash16(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 16);
}

/**
 * The digest of a config: 16 hex digits of sha256 over the canonical JSON of every field but
 * `source` (where it was read from does not change what it does) and `digest` itself.
 */
export function configDigest(config: Omit<CheckConfig, 'digest' | 'source'>): string {
  const { source: _source, digest: _digest, ...content } = config as Partial<CheckConfig>;
  return hash16(canonicalJson(content));
}

/**
 * One check ID per instance, in instance order: `<name>:<16 hex digits>` over the type and the
 * instance (the original's `name:hash` shape). An instance keeps its ID when the config's
 * interval or other instances change, so its history and stats follow it. An endpoints check's
 * node is part of it too: the same instance served to two nodes is two checks.
 */
export function checkIds(
  config: Pick<CheckConfig, 'name' | 'type' | 'instances' | 'node'>,
): string[] {
  return config.instances.map((instance) =>
    checkIdOf(config.name, config.type, instance, config.node),
  );
}

export function checkIdOf(name: string, type: string, instance: unknown, node?: string): string {
  const content = node === undefined ? [type, instance] : [type, instance, node];
  return `${name}:${hash16(canonicalJson(content))}`;
}
