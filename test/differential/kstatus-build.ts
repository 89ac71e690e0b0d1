/** Shared pieces of the differential generator's per-kind builders. */
import type { KubeObject } from '../../src/status/index.js';
import type { ContainerStatusFault, Deliberate, Gen } from './kstatus-gen.js';

export interface Built {
  readonly object: KubeObject;
  readonly tags?: readonly string[];
  readonly deliberate?: Deliberate;
  readonly containerStatusFault?: ContainerStatusFault;
}

export interface KindBuilder {
  readonly name: string;
  readonly weight: number;
  build(g: Gen, name: string): Built;
}

export type Obj = Record<string, unknown>;

/** Sets `key` unless `value` is undefined (a missing field). */
export function put(o: Obj, key: string, value: unknown): void {
  if (value !== undefined) o[key] = value;
}

export function base(
  apiVersion: string,
  kind: string,
  name: string,
  namespaced = true,
): KubeObject {
  const metadata: Obj = { name };
  if (namespaced) metadata.namespace = `ns-${name.length % 3}`;
  return { apiVersion, kind, metadata };
}

/** The replica count a workload aims at: small, sometimes odd. */
export function target(g: Gen): { spec: unknown; base: number } {
  if (g.chance(0.08)) return { spec: undefined, base: 1 };
  if (g.chance(0.05)) return { spec: g.weirdNumber(), base: 1 };
  const n = g.int(0, 4);
  return { spec: n, base: n };
}

/** Some of `conditions`, shuffled; undefined entries dropped. */
export function someConditions(g: Gen, conditions: (Obj | undefined)[]): Obj[] {
  return g.shuffle(conditions.filter((c): c is Obj => c !== undefined));
}
