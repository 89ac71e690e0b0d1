import { isFathomError } from '../../core/errors.js';
import type { LeaseRecord, LeaseStore } from '../../core/lease.js';
import { Type } from '../../core/schema.js';
import { validated } from '../../core/validated.js';
import { resourcePath, type KubeClient } from './api/client.js';

/** Where a holder says it can be reached: Lease has no field for it. */
export const LEADER_ADDRESS_ANNOTATION = 'fathom.dev/leader-address';

interface KubeLease {
  metadata: { name: string; resourceVersion?: string; annotations?: Record<string, string> };
  spec?: {
    holderIdentity?: string;
    leaseDurationSeconds?: number;
    acquireTime?: string;
    renewTime?: string;
    leaseTransitions?: number;
  };
}

const specSchema = Type.Object({
  // Empty (or absent) once its leader released it, as client-go's ReleaseOnCancel leaves it.
  holderIdentity: Type.Optional(Type.String()),
  leaseDurationSeconds: Type.Integer({ minimum: 1 }),
  acquireTime: Type.String(),
  renewTime: Type.String(),
  leaseTransitions: Type.Optional(Type.Integer({ minimum: 0 })),
});

/** A MicroTime as the API server parses it: RFC 3339 with six fractional digits. */
export function microTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

/**
 * Leases as coordination.k8s.io/v1 Lease objects in one namespace, as client-go's leader
 * election keeps them: create fails with 409 when one exists, replace fails with 409 when
 * its resourceVersion moved on.
 */
export class KubeLeaseStore implements LeaseStore {
  constructor(
    private readonly client: KubeClient,
    private readonly namespace: string,
  ) {}

  async get(name: string): Promise<{ record: LeaseRecord; version: string } | undefined> {
    const path = resourcePath('coordination.k8s.io', 'leases', this.namespace, name);
    const lease = await this.client.find<KubeLease>(
      path,
      `reading Lease ${this.namespace}/${name}`,
    );
    if (!lease) return undefined;
    const spec = validated(specSchema, lease.spec ?? {}, {
      file: `Lease ${this.namespace}/${name}`,
    });
    const record: LeaseRecord = {
      holder: spec.holderIdentity ?? '',
      address: lease.metadata.annotations?.[LEADER_ADDRESS_ANNOTATION] ?? '',
      durationMs: spec.leaseDurationSeconds * 1000,
      acquiredAt: Date.parse(spec.acquireTime),
      renewedAt: Date.parse(spec.renewTime),
      transitions: spec.leaseTransitions ?? 0,
    };
    return { record, version: lease.metadata.resourceVersion ?? '' };
  }

  async create(name: string, record: LeaseRecord): Promise<boolean> {
    return this.#write(() =>
      this.client.create(
        resourcePath('coordination.k8s.io', 'leases', this.namespace),
        this.#object(name, record),
        `creating Lease ${this.namespace}/${name}`,
      ),
    );
  }

  async update(name: string, record: LeaseRecord, version: string): Promise<boolean> {
    return this.#write(() =>
      this.client.request(
        'PUT',
        resourcePath('coordination.k8s.io', 'leases', this.namespace, name),
        `renewing Lease ${this.namespace}/${name}`,
        { body: this.#object(name, record, version) },
      ),
    );
  }

  /** True when written; false when someone else wrote first (409). */
  async #write(write: () => Promise<unknown>): Promise<boolean> {
    try {
      await write();
      return true;
    } catch (err) {
      if (isFathomError(err, 'FATHOM_KUBE_CONFLICT')) return false;
      throw err;
    }
  }

  #object(name: string, record: LeaseRecord, version?: string): object {
    return {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: {
        name,
        ...(version ? { resourceVersion: version } : {}),
        annotations: { [LEADER_ADDRESS_ANNOTATION]: record.address },
      },
      spec: {
        holderIdentity: record.holder,
        leaseDurationSeconds: Math.max(1, Math.ceil(record.durationMs / 1000)),
        acquireTime: microTime(record.acquiredAt),
        renewTime: microTime(record.renewedAt),
        leaseTransitions: record.transitions,
      },
    };
  }
}
