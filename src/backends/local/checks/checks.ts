/**
 * Cluster checks on the local backend: `up` makes the CA, the replicas' certificate, the token
 * and the lease file under `$FATHOM_HOME/checks/`, starts the dispatcher replicas as detached
 * `fathom dispatcher` processes on free loopback ports and one detached `fathom agent` per node
 * of the embedded cluster, and records their URLs; `down` stops them all (grace, then kill) and
 * removes the state. The API is reached with the token over HTTPS verified by the CA.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import type { ChecksBackend, ChecksUpInfo, ChecksUpRequest, ReplicaView } from '../../checks.js';
import { agentSettingsArgs, dispatcherSettingsArgs } from '../../checks.js';
import { createChecksApi, type ChecksApi } from '../../../checks/api-client.js';
import type { IsolateResponse, RebalanceResponse } from '../../../checks/wire.js';
import type { Clock } from '../../../core/clock.js';
import { FathomError, messageOf } from '../../../core/errors.js';
import { createCertificateAuthority } from '../../../core/pki.js';
import { writeTlsDir } from '../../../core/tls-files.js';
import { clusterForRun } from '../cluster-store.js';
import {
  daemonAlive,
  daemonFiles,
  spawnReadyDaemon,
  stopDaemon,
  type DaemonSpec,
} from '../process/daemon.js';
import { writeJsonAtomic } from '../store.js';
import {
  agentDaemon,
  CHECKS_API_VERSION,
  checksLayout,
  dispatcherDaemon,
  listeningAt,
  readChecksState,
  requireChecksState,
  type ChecksLayout,
  type ChecksState,
} from './layout.js';

const YEAR_MS = 365 * 24 * 3_600_000;
/** A process that has not listened by then is reported with its log. */
const READY_MS = 30_000;
const STOP_GRACE_MS = 5000;

export interface LocalChecksOptions {
  readonly home: string;
  readonly clock: Clock;
  /** The environment the daemons get (FATHOM_HOME is set to `home`). */
  readonly env: NodeJS.ProcessEnv;
}

export class LocalChecks implements ChecksBackend {
  readonly name = 'local' as const;
  readonly #layout: ChecksLayout;

  constructor(private readonly o: LocalChecksOptions) {
    this.#layout = checksLayout(o.home);
  }

  async up(request: ChecksUpRequest): Promise<ChecksUpInfo> {
    const layout = this.#layout;
    const { clock } = this.o;
    const existing = await readChecksState(layout);
    if (existing) return this.#restartDead(existing);
    await this.#stopAll(); // what a failed `up` may have left
    const nodes = (await clusterForRun(this.o.home, {}, clock)).nodes.map((n) => n.name);
    const configs = request.configsDir ?? layout.defaultConfigs;
    await mkdir(configs, { recursive: true });
    await this.#secrets();
    const env = { ...this.o.env, FATHOM_HOME: this.o.home };
    const started: DaemonSpec[] = [];
    const start = async (spec: DaemonSpec): Promise<string | undefined> => {
      started.push(spec);
      return ready(spec, clock);
    };
    try {
      const s = request.settings;
      const replicaUrls = await Promise.all(
        Array.from({ length: s.replicas }, (_, i) =>
          start(dispatcherDaemon(layout, i + 1, configs, dispatcherSettingsArgs(s), env)),
        ),
      );
      const replicas = replicaUrls.map((url, i) => ({
        name: `dispatcher-${i + 1}`,
        url: url!,
        argv: [...started[i]!.argv],
      }));
      const agentUrls = await Promise.all(
        nodes.map((node) =>
          start(
            agentDaemon(
              layout,
              node,
              replicas.map((r) => r.url),
              agentSettingsArgs(s),
              env,
            ),
          ),
        ),
      );
      const agents = nodes.map((node, i) => ({
        node,
        ...(agentUrls[i] ? { url: agentUrls[i] } : {}),
        argv: [...started[replicas.length + i]!.argv],
      }));
      const state: ChecksState = {
        apiVersion: CHECKS_API_VERSION,
        kind: 'Checks',
        createdAt: new Date(clock.now()).toISOString(),
        configs,
        replicas,
        agents,
      };
      await writeJsonAtomic(layout.state, state);
      return { replicas, agents, configs };
    } catch (err) {
      await Promise.all(started.map((spec) => stopDaemon(spec, clock, STOP_GRACE_MS)));
      await rm(layout.dir, { recursive: true, force: true });
      throw err;
    }
  }

  /**
   * `up` over a running install: restarts every replica and agent whose process died, the way
   * it was started and at the address agents and the CLI know; refuses when all run.
   */
  async #restartDead(state: ChecksState): Promise<ChecksUpInfo> {
    const layout = this.#layout;
    const env = { ...this.o.env, FATHOM_HOME: this.o.home };
    const daemons = [
      ...state.replicas.map((r) => ({ name: r.name, url: r.url, argv: r.argv })),
      ...state.agents.map((a) => ({ name: `agent-${a.node}`, url: a.url, argv: a.argv })),
    ];
    const dead: DaemonSpec[] = [];
    for (const d of daemons) {
      const spec: DaemonSpec = {
        name: d.name,
        argv: (d.argv ? listeningAt(d.argv, d.url) : ['-']) as [string, ...string[]],
        files: daemonFiles(layout.dir, d.name),
        env,
      };
      if (!(await daemonAlive(spec))) dead.push(spec);
    }
    if (!dead.length) {
      throw new FathomError(
        'FATHOM_CHECKS_UP',
        `cluster checks already run (${state.replicas.length} replica(s), ${state.agents.length} agent(s)): \`fathom checks down\` first`,
      );
    }
    const unknown = dead.filter((d) => d.argv[0] === '-').map((d) => d.name);
    if (unknown.length) {
      throw new FathomError(
        'FATHOM_STATE_INVALID',
        `${layout.state}: ${unknown.join(', ')} died and were started by an older fathom: \`fathom checks down\`, then up`,
      );
    }
    await Promise.all(dead.map((spec) => ready(spec, this.o.clock)));
    return {
      replicas: state.replicas.map(({ name, url }) => ({ name, url })),
      agents: state.agents.map(({ node, url }) => ({ node, ...(url ? { url } : {}) })),
      configs: state.configs,
      restarted: dead.map((d) => d.name),
    };
  }

  async down(): Promise<readonly string[]> {
    const stopped = await this.#stopAll();
    await rm(this.#layout.dir, { recursive: true, force: true });
    return stopped;
  }

  async replicas(): Promise<readonly ReplicaView[]> {
    const state = await requireChecksState(this.#layout);
    const apis = await this.#apis(state);
    return Promise.all(
      state.replicas.map(async (r, i): Promise<ReplicaView> => {
        try {
          return { ...r, state: await apis[i]!.state() };
        } catch (err) {
          return { ...r, error: messageOf(err) };
        }
      }),
    );
  }

  rebalance(force: boolean): Promise<readonly RebalanceResponse[]> {
    return this.#any((api) => api.rebalance(force));
  }

  isolate(checkId: string): Promise<IsolateResponse> {
    return this.#any((api) => api.isolate(checkId));
  }

  /** The first replica that answers (a follower forwards to the leader). */
  async #any<T>(call: (api: ChecksApi) => Promise<T>): Promise<T> {
    const apis = await this.#apis(await requireChecksState(this.#layout));
    let last: unknown;
    for (const api of apis) {
      try {
        return await call(api);
      } catch (err) {
        last = err;
      }
    }
    throw last;
  }

  async #apis(state: ChecksState): Promise<ChecksApi[]> {
    const [token, caPem] = await Promise.all([
      readFile(this.#layout.token, 'utf8'),
      readFile(this.#layout.ca, 'utf8'),
    ]).catch((err: unknown) => {
      throw new FathomError(
        'FATHOM_STATE_INVALID',
        `${this.#layout.dir}: ${messageOf(err)}; \`fathom checks down\` removes it`,
      );
    });
    return state.replicas.map((r) =>
      createChecksApi({ url: r.url, token: token.trim(), caPem, timeoutMs: 5000 }),
    );
  }

  /** The token (0600), the CA and the replicas' certificate for 127.0.0.1 and localhost. */
  async #secrets(): Promise<void> {
    const layout = this.#layout;
    await mkdir(layout.dir, { recursive: true, mode: 0o700 });
    await writeFile(layout.token, `${randomBytes(32).toString('base64url')}\n`, { mode: 0o600 });
    const ca = await createCertificateAuthority({
      name: 'CN=fathom-checks-ca, O=fathom',
      now: this.o.clock.now(),
      validForMs: YEAR_MS,
    });
    const pair = await ca.issue({
      subject: 'CN=fathom-dispatcher, O=fathom',
      usage: 'server',
      names: ['127.0.0.1', '::1', 'localhost'],
    });
    await writeTlsDir(layout.tls, { caPem: ca.caPem, ...pair });
  }

  /** Stops every daemon with a pid file in the checks directory; their names. */
  async #stopAll(): Promise<string[]> {
    const dir = this.#layout.dir;
    const names = (await readdir(dir).catch(() => [] as string[]))
      .filter((f) => f.endsWith('.pid'))
      .map((f) => f.slice(0, -'.pid'.length));
    const clock = this.o.clock;
    await Promise.all(
      names.map((name) =>
        stopDaemon({ name, argv: ['-'], files: daemonFiles(dir, name) }, clock, STOP_GRACE_MS),
      ),
    );
    return names.sort();
  }
}

/** Starts a daemon and resolves with the URL it says it listens on. */
async function ready(spec: DaemonSpec, clock: Clock): Promise<string | undefined> {
  const { child, ready: said } = await spawnReadyDaemon(spec);
  const limit = new AbortController();
  try {
    const late = clock.sleep(READY_MS, limit.signal).then((): never => {
      throw new FathomError(
        'FATHOM_PROCESS_FAILED',
        `${spec.name} did not answer within ${READY_MS / 1000}s; see ${spec.files.log}`,
      );
    });
    const m = (await Promise.race([said, late])) as { type?: string; url?: string };
    if (m.type !== 'ready') {
      throw new FathomError(
        'FATHOM_PROCESS_FAILED',
        `${spec.name} said something else before it listened; see ${spec.files.log}`,
      );
    }
    return m.url;
  } finally {
    limit.abort();
    child.removeAllListeners('exit');
    child.channel?.unref();
    child.disconnect?.();
  }
}
