/**
 * `fathom session submit|list|get|events|logs|cancel`, `fathom pools` and the hidden
 * `fathom session-controller`, on both backends. Every session command makes sure a controller
 * runs (local: started detached on first use, restarted when found dead; Kubernetes: a warning
 * when none holds the lease), so a session never waits unsaid on a controller that is gone.
 */
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import type { SessionsBackend } from '../../backends/sessions.js';
import { FathomError, messageOf } from '../../core/errors.js';
import type { ClusterOptions, Io } from '../context.js';
import {
  applyFlags,
  clusterFlags,
  outputFlag,
  positiveInt,
  SESSIONS_NAMESPACE,
  type FlagSpec,
} from '../flags.js';
import type { OutputFormat } from '../reporters/status.js';

interface SessionOptions extends ClusterOptions {
  output: OutputFormat;
  poolLabel: string;
}

export const poolLabelFlag: FlagSpec = {
  flags: '--pool-label <key>',
  description: 'the node label whose value names a node pool',
  default: 'pool',
};

export const sessionFlags: readonly FlagSpec[] = [...clusterFlags, outputFlag, poolLabelFlag];

/** The sessions backend the flags name (not yet checking on its controller). */
export async function openSessionsBackend(o: SessionOptions, io: Io): Promise<SessionsBackend> {
  const { systemClock } = await import('../../core/clock.js');
  if (o.backend === 'kubernetes') {
    const [{ openKubeSessions }, { kubeClientFor }] = await Promise.all([
      import('../../backends/kubernetes/sessions/index.js'),
      import('../kube-client.js'),
    ]);
    return openKubeSessions({
      client: await kubeClientFor(o, io),
      namespace: sessionsNamespace(o),
      clock: systemClock,
      labelKey: o.poolLabel,
    });
  }
  const [{ LocalSessions }, { fathomHome }] = await Promise.all([
    import('../../backends/local/sessions/client.js'),
    import('../../backends/local/store.js'),
  ]);
  return new LocalSessions({
    home: fathomHome(io.env),
    clock: systemClock,
    env: io.env,
    labelKey: o.poolLabel,
  });
}

/** `-n`, unless it is the runs' default: then SESSIONS_NAMESPACE. */
export function sessionsNamespace(o: Pick<ClusterOptions, 'namespace'>): string {
  return o.namespace === 'fathom' ? SESSIONS_NAMESPACE : o.namespace;
}

/** The backend's sessions, with a controller running (or a warning that none does). */
async function open<T>(
  o: SessionOptions,
  io: Io,
  use: (s: SessionsBackend) => Promise<T>,
): Promise<T> {
  const sessions = await openSessionsBackend(o, io);
  try {
    const started = await sessions.ensureController();
    if (started === 'restarted') io.err('The session controller had stopped: restarted it.\n');
    if (started === 'absent') {
      const ns = sessionsNamespace(o);
      io.err(
        `warning: no session controller runs in namespace ${ns}: sessions stay Queued until one does (\`fathom gen sessions -n ${ns} | kubectl apply -f -\`)\n`,
      );
    }
    return await use(sessions);
  } finally {
    await sessions.close();
  }
}

async function readSessionFile(file: string, io: Io, requireImage: boolean) {
  const path = resolve(io.cwd, file);
  const text = await readFile(path, 'utf8').catch((err: unknown) => {
    throw new FathomError('FATHOM_BAD_FLAG_VALUE', `-f ${file}: ${messageOf(err)}`, {
      details: { flag: '-f', value: file },
    });
  });
  const { parseSessionText } = await import('../../sessions/index.js');
  const docs = parseSessionText(text, file, { requireImage });
  if (docs.length !== 1) {
    throw new FathomError(
      'FATHOM_SESSION_INVALID',
      `${file}: expected one Session document, found ${docs.length}`,
      { details: { file } },
    );
  }
  return docs[0]!;
}

export function registerSessions(program: Command, io: Io): void {
  const session = program
    .command('session')
    .enablePositionalOptions()
    .description('sessions: multi-component tests, each component on whole nodes of a pool');

  applyFlags(
    session
      .command('submit')
      .description('queue a session (refused at once if its pools can never hold it)')
      .requiredOption('-f, --file <file>', 'the Session YAML file')
      .option('--wait', 'follow it to its end: exit 0 when it succeeds, 1 otherwise')
      .action(async (o: SessionOptions & { file: string; wait?: boolean }) => {
        const parsed = await readSessionFile(o.file, io, o.backend === 'kubernetes');
        await open(o, io, async (s) => {
          const stored = await s.submit(parsed);
          const name = stored.metadata.name;
          if (o.output !== 'table' && !o.wait) {
            const { renderSession } = await import('../reporters/sessions.js');
            io.out(renderSession(stored, o.output));
            return;
          }
          if (!o.wait) {
            io.out(`session ${name} queued; follow it with \`fathom session get ${name}\`\n`);
            return;
          }
          const { waitForSession } = await import('./session-wait.js');
          // Machine output stays alone on stdout: progress then goes to stderr.
          const end = await waitForSession(
            s,
            name,
            io,
            (l) => (o.output === 'table' ? io.out(l) : io.err(l)),
            io.isTTY && o.output === 'table',
          );
          if (o.output !== 'table') {
            const { renderSession } = await import('../reporters/sessions.js');
            io.out(renderSession(end, o.output));
          }
          const st = end.status!;
          if (st.state !== 'Succeeded') {
            throw new FathomError(
              'FATHOM_SESSION_FAILED',
              `session ${name} ${st.state}: ${st.reason}: ${st.message}`,
            );
          }
        });
      }),
    sessionFlags,
  );

  applyFlags(
    session
      .command('list')
      .description('every stored session: state, reason, age, components')
      .action(async (o: SessionOptions) => {
        const { renderSessionList } = await import('../reporters/sessions.js');
        await open(o, io, async (s) => {
          io.out(renderSessionList(await s.list(), o.output, Date.now()));
          for (const p of await s.problems()) io.err(`warning: ${p}\n`);
        });
      }),
    sessionFlags,
  );

  applyFlags(
    session
      .command('get')
      .argument('<name>', 'session name')
      .description('one session: -o json|yaml prints the Session object (metadata, spec, status)')
      .action(async (name: string, o: SessionOptions) => {
        const { renderSession } = await import('../reporters/sessions.js');
        await open(o, io, async (s) =>
          io.out(renderSession((await s.get(name)).session, o.output)),
        );
      }),
    sessionFlags,
  );

  applyFlags(
    session
      .command('events')
      .argument('<name>', 'session name')
      .description("a session's events, oldest first")
      .action(async (name: string, o: SessionOptions) => {
        const { renderEvents } = await import('../reporters/sessions.js');
        await open(o, io, async (s) => io.out(renderEvents(await s.events(name), o.output)));
      }),
    sessionFlags,
  );

  applyFlags(
    session
      .command('logs')
      .argument('<name>', 'session name')
      .description("components' output: kept after the end, live while running")
      .option('-c, --component <name>', 'only this component')
      .option('-f, --follow', 'keep printing until the session ends')
      .action(
        async (name: string, o: SessionOptions & { component?: string; follow?: boolean }) => {
          const { printLogs } = await import('./session-wait.js');
          await open(o, io, (s) => printLogs(s, name, io, o));
        },
      ),
    [...clusterFlags, poolLabelFlag],
  );

  applyFlags(
    session
      .command('cancel')
      .argument('<name>', 'session name')
      .description('cancel a session in any state; returns once its components are gone')
      .action(async (name: string, o: SessionOptions) => {
        const { awaitReleased } = await import('./session-wait.js');
        await open(o, io, async (s) => {
          const after = await s.cancel(name);
          await awaitReleased(s, name, io);
          if (o.output !== 'table') {
            const { renderSession } = await import('../reporters/sessions.js');
            io.out(renderSession((await s.get(name)).session, o.output));
            return;
          }
          const state = after.status?.state ?? 'Queued';
          io.out(
            after.status?.reason === 'Cancelled'
              ? `session ${name} cancelled\n`
              : `session ${name} had ended already (${state})\n`,
          );
        });
      }),
    sessionFlags,
  );

  applyFlags(
    program
      .command('pools')
      .description('node pools: capacity, reserved, available, and the sessions holding nodes')
      .action(async (o: SessionOptions) => {
        const { renderPools } = await import('../reporters/sessions.js');
        await open(o, io, async (s) => io.out(renderPools(await s.pools(), o.output)));
      }),
    sessionFlags,
  );

  applyFlags(
    program
      .command('session-controller', { hidden: true })
      .description(
        'the session controller (local: started for you by the session commands; kubernetes: the Deployment `gen sessions` prints)',
      )
      .option('--executors <count>', 'sessions running at once', positiveInt('--executors'), 2)
      .action(async (o: SessionOptions & { executors: number }) => {
        const [{ systemClock }, { pino }] = await Promise.all([
          import('../../core/clock.js'),
          import('pino'),
        ]);
        const log = pino({ base: { component: 'session-controller', pid: process.pid } });
        const stop = new AbortController();
        for (const sig of ['SIGTERM', 'SIGINT'] as const) process.once(sig, () => stop.abort());
        const common = {
          clock: systemClock,
          executors: o.executors,
          labelKey: o.poolLabel,
          signal: stop.signal,
          log,
        };
        if (o.backend === 'kubernetes') {
          const [{ runKubeSessionController }, { kubeClientFor }] = await Promise.all([
            import('../../backends/kubernetes/sessions/index.js'),
            import('../kube-client.js'),
          ]);
          const client = await kubeClientFor(o, io);
          try {
            // In its Deployment the pod's name (downward API) names this replica.
            const pod = io.env.POD_NAME;
            await runKubeSessionController({
              ...common,
              client,
              namespace: sessionsNamespace(o),
              ...(pod ? { identity: pod } : {}),
            });
          } finally {
            client.close();
          }
          return;
        }
        const [{ runSessionController }, { fathomHome }] = await Promise.all([
          import('../../backends/local/sessions/controller-process.js'),
          import('../../backends/local/store.js'),
        ]);
        await runSessionController({ ...common, home: fathomHome(io.env) });
      }),
    [...clusterFlags, poolLabelFlag],
  );
}
