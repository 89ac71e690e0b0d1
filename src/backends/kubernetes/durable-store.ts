/**
 * The durable store on Kubernetes: one ConfigMap per (collection, key), the version its
 * resourceVersion, so the API server's optimistic concurrency is the compare-and-swap (a PUT
 * or a DELETE at a stale resourceVersion is a 409).
 */
import { isFathomError } from '../../core/errors.js';
import { Type } from '../../core/schema.js';
import {
  checkStoreName,
  encodeValue,
  type Collection,
  type DurableStore,
  type StoredItem,
} from '../../core/store.js';
import { validated, validatedJson } from '../../core/validated.js';
import { resourcePath, type KubeClient } from './api/client.js';
import { COMPONENT, LABEL } from './names.js';

export const STORE_LABEL = 'fathom.dev/store';
export const KEY_LABEL = 'fathom.dev/key';

/**
 * Both names end up in label values (at most 63 characters), so the ConfigMap name is at most
 * 13 + 63 + 1 + 63 characters, well within 253.
 */
const NAME_MAX = 63;

/**
 * `fathom-store-<collection>.<key>`: a dot, not a dash, between the two, since neither holds a
 * dot and so no two (collection, key) pairs share a name (`a-b`,`c` and `a`,`b-c` would).
 */
export function configMapName(collection: string, key: string): string {
  return `fathom-store-${collection}.${key}`;
}

const configMapSchema = Type.Object({
  metadata: Type.Object({
    resourceVersion: Type.String({ minLength: 1 }),
    labels: Type.Object({ [KEY_LABEL]: Type.String({ minLength: 1 }) }),
  }),
  data: Type.Object({ value: Type.String() }),
});

interface ConfigMap {
  metadata: { name: string };
}

export interface KubeStoreOptions {
  readonly client: KubeClient;
  readonly namespace: string;
}

/** The store in `namespace`. `close` leaves the client open: it is the caller's. */
export function createKubeStore({ client, namespace }: KubeStoreOptions): DurableStore {
  return {
    collection(name) {
      checkStoreName('collection', name, NAME_MAX);
      return new ConfigMapCollection(client, namespace, name);
    },
    close: () => Promise.resolve(),
  };
}

/** Undefined for the answers that mean "someone else changed it first" or "gone". */
async function unlessLost<T>(
  write: () => Promise<T>,
  lost: readonly string[],
): Promise<T | undefined> {
  try {
    return await write();
  } catch (err) {
    if (lost.some((code) => isFathomError(err) && err.code === code)) return undefined;
    throw err;
  }
}

class ConfigMapCollection implements Collection {
  constructor(
    private readonly client: KubeClient,
    private readonly namespace: string,
    private readonly name: string,
  ) {}

  async get(key: string): Promise<StoredItem | undefined> {
    const cm = await this.client.find<ConfigMap>(this.#path(key), `reading ${this.#what(key)}`);
    return cm && this.#item(cm);
  }

  async list(): Promise<readonly StoredItem[]> {
    const found = await this.client.list<ConfigMap>(
      resourcePath('', 'configmaps', this.namespace),
      `listing store collection ${this.name} in namespace ${this.namespace}`,
      { labelSelector: `${LABEL.component}=${COMPONENT},${STORE_LABEL}=${this.name}` },
    );
    return found.items
      .map((cm) => this.#item(cm))
      .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  async create(key: string, value: unknown): Promise<string | undefined> {
    const body = this.#object(key, value);
    const made = await unlessLost(
      () =>
        this.client.create<ConfigMap>(
          resourcePath('', 'configmaps', this.namespace),
          body,
          `creating ${this.#what(key)}`,
        ),
      ['FATHOM_KUBE_CONFLICT'],
    );
    return made && this.#item(made).version;
  }

  async update(key: string, value: unknown, version: string): Promise<string | undefined> {
    const body = this.#object(key, value, version);
    const put = await unlessLost(
      () =>
        this.client.request<ConfigMap>('PUT', this.#path(key), `replacing ${this.#what(key)}`, {
          body,
        }),
      ['FATHOM_KUBE_CONFLICT', 'FATHOM_KUBE_NOT_FOUND'],
    );
    return put && this.#item(put).version;
  }

  async remove(key: string, version?: string): Promise<boolean> {
    const path = this.#path(key);
    const done = await unlessLost(
      () =>
        this.client.request('DELETE', path, `deleting ${this.#what(key)}`, {
          ...(version
            ? {
                body: {
                  apiVersion: 'v1',
                  kind: 'DeleteOptions',
                  preconditions: { resourceVersion: version },
                },
              }
            : {}),
        }),
      ['FATHOM_KUBE_CONFLICT', 'FATHOM_KUBE_NOT_FOUND'],
    );
    return done !== undefined;
  }

  #path(key: string): string {
    checkStoreName('key', key, NAME_MAX);
    return resourcePath('', 'configmaps', this.namespace, configMapName(this.name, key));
  }

  #what(key: string): string {
    return `ConfigMap ${this.namespace}/${configMapName(this.name, key)}`;
  }

  #object(key: string, value: unknown, version?: string): object {
    checkStoreName('key', key, NAME_MAX);
    return {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: {
        name: configMapName(this.name, key),
        labels: { [LABEL.component]: COMPONENT, [STORE_LABEL]: this.name, [KEY_LABEL]: key },
        ...(version ? { resourceVersion: version } : {}),
      },
      data: { value: encodeValue(`store ${this.name}/${key}`, value) },
    };
  }

  /** The item a ConfigMap holds, checked: its value must be JSON, its key label present. */
  #item(cm: ConfigMap): StoredItem {
    const file = `ConfigMap ${this.namespace}/${cm.metadata.name}`;
    const checked = validated(configMapSchema, cm, { file });
    return {
      key: checked.metadata.labels[KEY_LABEL],
      value: validatedJson(Type.Unknown(), checked.data.value, { file: `${file}: data.value` }),
      version: checked.metadata.resourceVersion,
    };
  }
}
