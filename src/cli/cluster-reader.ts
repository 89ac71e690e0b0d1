/**
 * The cluster a status watch reads, chosen by the cluster flags: the API server of a kubeconfig
 * context (`--backend kubernetes`), or this machine's local runs (`--backend local`). Loaded
 * lazily by the commands that poll.
 */
import type { BackendName } from '../backends/backend.js';
import type { ClusterReader, GroupKind, ResourceScope } from '../status/index.js';
import type { ClusterOptions, Io } from './context.js';

/** A backend's ClusterReader, with what a watch needs to resolve manifest objects. */
export interface OpenedClusterReader {
  readonly backend: BackendName;
  readonly reader: ClusterReader;
  /**
   * The namespace of objects that name none: `-n` when given, else the kubeconfig context's
   * namespace (kubernetes) or `fathom` (local), as kubectl does.
   */
  readonly defaultNamespace: string;
  /** Where a kind lives; undefined when the backend does not serve it. */
  scopeOf(gk: GroupKind, signal?: AbortSignal): Promise<ResourceScope | undefined>;
  close(): void;
}

/** The cluster flags; `namespace` only when the user gave `-n` (so the defaults above apply). */
export type ClusterReaderOptions = Pick<
  ClusterOptions,
  'backend' | 'kubeconfig' | 'context' | 'requestTimeout'
> & { readonly namespace?: string | undefined };

const LOCAL_DEFAULT_NAMESPACE = 'fathom';

/** Opens the reader the flags name. Kubeconfig problems are FathomErrors (FATHOM_CONFIG_INVALID). */
export async function openClusterReader(
  options: ClusterReaderOptions,
  io: Io,
): Promise<OpenedClusterReader> {
  if (options.backend === 'kubernetes') {
    const [
      { resolveKubeconfig },
      { createKubeClient },
      { createKubeClusterReader },
      { systemClock },
    ] = await Promise.all([
      import('../backends/kubernetes/api/kubeconfig.js'),
      import('../backends/kubernetes/api/client.js'),
      import('../backends/kubernetes/reader.js'),
      import('../core/clock.js'),
    ]);
    const resolved = resolveKubeconfig({
      env: io.env,
      ...(io.env.HOME ? { homeDir: io.env.HOME } : {}),
      ...(options.kubeconfig ? { kubeconfig: options.kubeconfig } : {}),
      ...(options.context ? { context: options.context } : {}),
      ...(options.namespace ? { namespace: options.namespace } : {}),
      ...(options.requestTimeout ? { requestTimeout: options.requestTimeout } : {}),
    });
    const reader = createKubeClusterReader(createKubeClient(resolved), { clock: systemClock });
    return {
      backend: 'kubernetes',
      reader,
      defaultNamespace: resolved.namespace,
      scopeOf: (gk, signal) => reader.scopeOf(gk, signal),
      close: () => reader.close(),
    };
  }
  const [{ createLocalClusterReader }, { fathomHome }] = await Promise.all([
    import('../backends/local/reader.js'),
    import('../backends/local/store.js'),
  ]);
  const reader = createLocalClusterReader({ home: fathomHome(io.env) });
  return {
    backend: 'local',
    reader,
    defaultNamespace: options.namespace ?? LOCAL_DEFAULT_NAMESPACE,
    scopeOf: (gk) => reader.scopeOf(gk),
    close: () => reader.close(),
  };
}
