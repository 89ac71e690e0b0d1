import { Option, type Command } from 'commander';
import { systemClock, type Clock } from '../../core/clock.js';
import { formatDuration, parseDuration } from '../../core/duration.js';
import { FathomError } from '../../core/errors.js';
import { visible } from '../../core/visible.js';
import type {
  FreshGuard,
  HealthRow,
  ManifestObject,
  ReadinessRules,
  WatchOutcome,
  WatchUntil,
} from '../../status/index.js';
import type { ClusterReaderOptions, OpenedClusterReader } from '../cluster-reader.js';
import type { ClusterOptions, Io } from '../context.js';
import { applyFlags, clusterFlags, outputFlag, type FlagSpec } from '../flags.js';
import type { OutputFormat } from '../reporters/status.js';

const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

interface HealthOptions extends Omit<ClusterOptions, 'namespace'> {
  filename?: string[];
  recursive?: boolean;
  rules?: string[];
  freshGuard: FreshGuard;
  output: OutputFormat;
  /** Undefined unless -n was given: objects then default to the backend's namespace. */
  namespace?: string;
  watch?: boolean;
  until: WatchUntil;
  timeout?: number;
  pollInterval: number;
  failFast?: boolean;
}

/** What tests replace: the clock, the cluster, the stop signal, the terminal width. */
export interface HealthDeps {
  /** Drives the watch's poll cycles and --timeout; the system clock by default. */
  readonly clock?: Clock;
  /** Opens the cluster the flags name (`openClusterReader` by default). */
  readonly openReader?: (options: ClusterReaderOptions, io: Io) => Promise<OpenedClusterReader>;
  /** Stops a watch; by default Ctrl-C (SIGINT) does. */
  readonly signal?: AbortSignal;
  /** Terminal width for the redrawn table; process.stdout.columns by default. */
  readonly columns?: number;
}

const WATCH_ONLY = ['until', 'timeout', 'pollInterval', 'failFast'] as const;

/**
 * The cluster flags, with -n as kubectl has it for objects: the namespace of those that name
 * none, defaulting to the kubeconfig context's (kubernetes) or `fathom` (local).
 */
const healthClusterFlags: readonly FlagSpec[] = clusterFlags.map((f) =>
  f.flags.startsWith('-n,')
    ? {
        flags: f.flags,
        description:
          "--watch: namespace of objects that name none (default: the context's; local: fathom)",
      }
    : f,
);

/** `fathom health -f`: kstatus's verdict for objects that carry their status, or `--watch` them live. */
export function registerHealth(program: Command, io: Io, deps: HealthDeps = {}): void {
  const cmd = program
    .command('health')
    .description(
      'tell how ready each object is (kstatus rules): Current, InProgress, Failed, Terminating, NotFound or Unknown; --watch polls them in a cluster or on the local backend (runs, their pods, sessions)',
    )
    .option(
      '-f, --filename <file|dir|->',
      'objects (with their status, unless --watch), e.g. from `kubectl get -o yaml` (repeatable; - = stdin)',
      collect,
    )
    .option('-R, --recursive', 'read directories recursively')
    .option('--rules <file>', 'CEL readiness rules for custom resources (repeatable)', collect)
    .option(
      '--fresh-guard <mode>',
      'a custom resource without status is not Current: off, status or ready',
      'off',
    )
    .option('-w, --watch', "read the objects' live status from the backend until --until holds")
    .addOption(
      new Option('--until <status>', '--watch: stop once every object is current or deleted')
        .choices(['current', 'deleted', 'forever'])
        .default('current'),
    )
    .addOption(
      new Option(
        '--timeout <duration>',
        '--watch: give up after this long (default: never)',
      ).argParser((v: string) => parseDuration(v, '--timeout')),
    )
    .option(
      '--fail-fast',
      '--watch: stop (exit 1) as soon as an object is Failed, e.g. an errored session',
    )
    .addOption(
      new Option('--poll-interval <duration>', '--watch: time between two reads')
        .argParser((v: string) => parseDuration(v, '--poll-interval'))
        .default(2000, '2s'),
    )
    .action(async (options: HealthOptions, command: Command) => {
      if (!options.filename?.length) {
        throw new FathomError(
          'FATHOM_USAGE',
          'health needs -f FILE|DIR|- (objects that carry their status, or to --watch)',
        );
      }
      if (!['off', 'status', 'ready'].includes(options.freshGuard)) {
        throw new FathomError(
          'FATHOM_BAD_FLAG_VALUE',
          `--fresh-guard must be off, status or ready, not "${options.freshGuard}"`,
        );
      }
      if (!options.watch) {
        const given = WATCH_ONLY.filter((k) => command.getOptionValueSource(k) === 'cli');
        if (given.length) {
          throw new FathomError(
            'FATHOM_USAGE',
            '--until, --timeout, --poll-interval and --fail-fast need --watch',
          );
        }
        return offline(options, io);
      }
      return watch(options, io, deps);
    });
  applyFlags(cmd, [...healthClusterFlags, outputFlag]);
}

async function loadRules(paths: string[] | undefined): Promise<ReadinessRules | undefined> {
  if (!paths?.length) return undefined;
  const { loadReadinessRules } = await import('../../status/index.js');
  return loadReadinessRules(paths);
}

/** `health -f` without --watch: the status the objects carry. */
async function offline(options: HealthOptions, io: Io): Promise<void> {
  const [status, { renderHealth }] = await Promise.all([
    import('../../status/index.js'),
    import('../reporters/health.js'),
  ]);
  const rules = await loadRules(options.rules);
  const objects = status.readManifests(options.filename ?? [], {
    stdin: io.stdin,
    recursive: options.recursive ?? false,
  });
  // Rows stream out of the parser; all are read before printing so bad input prints nothing.
  const rows: HealthRow[] = [];
  for await (const row of status.healthRows(objects, {
    freshGuard: options.freshGuard,
    ...(rules ? { rules } : {}),
  })) {
    rows.push(row);
  }
  io.out(renderHealth(rows, options.output));
  const notCurrent = rows.filter((r) => r.status !== 'Current').length;
  if (notCurrent) {
    throw new FathomError(
      'FATHOM_NOT_READY',
      `${notCurrent} of ${rows.length} object(s) are not Current${failedNote(rows)}`,
    );
  }
}

/** `health --watch`: poll the backend until the objects are where `--until` wants them. */
async function watch(options: HealthOptions, io: Io, deps: HealthDeps): Promise<void> {
  const [status, { createWatchRenderer }, { openClusterReader }] = await Promise.all([
    import('../../status/index.js'),
    import('../reporters/health-watch.js'),
    import('../cluster-reader.js'),
  ]);
  const clock = deps.clock ?? systemClock;
  const rules = await loadRules(options.rules);
  // Every manifest is read (and checked) before the cluster is: bad input exits 2 at once.
  const manifests: ManifestObject[] = [];
  for await (const m of status.readManifests(options.filename ?? [], {
    stdin: io.stdin,
    recursive: options.recursive ?? false,
  })) {
    if (!(m.object.metadata as { name?: unknown } | undefined)?.name) {
      throw new FathomError('FATHOM_CONFIG_INVALID', `${m.file}:${m.line}: has no metadata.name`, {
        details: { file: m.file, line: m.line },
      });
    }
    manifests.push(m);
  }

  // Opened before the timeout starts or Ctrl-C is taken over: nothing to undo if it fails.
  const opened = await (deps.openReader ?? openClusterReader)(
    {
      backend: options.backend,
      namespace: options.namespace,
      ...(options.kubeconfig ? { kubeconfig: options.kubeconfig } : {}),
      ...(options.context ? { context: options.context } : {}),
      ...(options.requestTimeout ? { requestTimeout: options.requestTimeout } : {}),
    },
    io,
  );
  const stop = new AbortController();
  const onSigint = (): void => stop.abort(new Error('interrupted'));
  if (deps.signal) deps.signal.addEventListener('abort', onSigint, { once: true });
  else process.once('SIGINT', onSigint);
  // --timeout covers discovery too; the watch gets what is left of it.
  const started = clock.now();
  const timeoutMs = options.timeout ?? 0;
  const expired = new AbortController();
  if (timeoutMs > 0) {
    clock.sleep(timeoutMs, stop.signal).then(
      () => expired.abort(new Error('timed out')),
      () => undefined,
    );
  }
  const desired = status.desiredOf(options.until);
  const word = desired === 'Current' ? 'Current' : 'deleted';
  try {
    const discovery = AbortSignal.any([stop.signal, expired.signal]);
    let ids;
    try {
      ids = await status.identifiersOf(
        manifests.map((m) => m.object),
        {
          defaultNamespace: opened.defaultNamespace,
          scopeOf: (gk) => opened.scopeOf(gk, discovery),
        },
      );
    } catch (err) {
      if (!discovery.aborted) throw err;
      if (expired.signal.aborted) {
        throw new FathomError(
          'FATHOM_TIMEOUT',
          `timed out after ${formatDuration(timeoutMs)}: ${manifests.length} of ${manifests.length} object(s) not yet ${word}`,
          { cause: err },
        );
      }
      throw new FathomError('FATHOM_NOT_READY', 'interrupted before the objects were read', {
        cause: err,
      });
    }
    const poller = status.createStatusPoller(opened.reader, {
      clusterReaderFactory: status.createCachingClusterReader,
      compute: { freshGuard: options.freshGuard, ...(rules ? { rules } : {}) },
    });
    const renderer = createWatchRenderer({
      format: options.output,
      live: io.isTTY,
      write: (t) => io.out(t),
      desired,
      ...((deps.columns ?? process.stdout.columns)
        ? { columns: deps.columns ?? process.stdout.columns }
        : {}),
    });
    const left = timeoutMs > 0 ? Math.max(1, timeoutMs - (clock.now() - started)) : 0;
    // --fail-fast: kstatus keeps waiting on Failed (a Deployment may recover); a session that
    // errored never will, and the user may say so.
    const failed = new AbortController();
    const outcome = await status.watchStatus(
      poller,
      ids,
      {
        until: options.until,
        pollInterval: options.pollInterval,
        timeoutMs: left,
        clock,
        signal: AbortSignal.any([stop.signal, failed.signal]),
      },
      (u) => {
        renderer.update(u);
        if (options.failFast && u.aggregate === 'Failed') failed.abort(new Error('failed'));
      },
    );
    renderer.end(outcome);
    if (failed.signal.aborted && !stop.signal.aborted) failFast(outcome);
    verdict(outcome, timeoutMs, word);
  } finally {
    opened.close();
    if (deps.signal) deps.signal.removeEventListener('abort', onSigint);
    else process.off('SIGINT', onSigint);
    if (!stop.signal.aborted) stop.abort(new Error('done')); // ends the --timeout sleep
  }
}

/**
 * ` (N Failed)` when some objects are Failed: a stalled object (an errored session) rarely
 * recovers, so the one error line says so rather than only "not yet".
 */
function failedNote(rows: readonly { readonly status: string }[]): string {
  const failed = rows.filter((r) => r.status === 'Failed').length;
  return failed ? ` (${failed} Failed)` : '';
}

/** --fail-fast ended the watch: one line naming the first Failed object and its message. */
function failFast(outcome: WatchOutcome): never {
  const bad = outcome.observation.statuses.filter((s) => s.status === 'Failed');
  const id = bad[0]?.identifier;
  const ref =
    id && (id.namespace ? `${id.kind}/${id.namespace}/${id.name}` : `${id.kind}/${id.name}`);
  const why = bad[0]?.message ? `: ${bad[0].message}` : '';
  throw new FathomError(
    'FATHOM_NOT_READY',
    visible(
      `${bad.length} of ${outcome.total} object(s) Failed, first ${ref ?? '?'}${why}`,
      'line',
    ),
    { details: { failed: bad.length, total: outcome.total } },
  );
}

/** Exit 0 when the aggregate verdict is the desired status; one line saying why not otherwise. */
function verdict(outcome: WatchOutcome, timeoutMs: number, word: string): void {
  const count = `${outcome.pending} of ${outcome.total} object(s)`;
  const failed = failedNote(outcome.observation.statuses);
  switch (outcome.end) {
    case 'reached':
      return;
    case 'error':
      throw outcome.error ?? new FathomError('FATHOM_INTERNAL', 'the watch ended with an error');
    case 'timeout':
      throw new FathomError(
        'FATHOM_TIMEOUT',
        `timed out after ${formatDuration(timeoutMs)}: ${count} not yet ${word}${failed}`,
        { details: { pending: outcome.pending, total: outcome.total } },
      );
    case 'interrupted':
      if (outcome.aggregate === outcome.desired) return;
      throw new FathomError('FATHOM_NOT_READY', `interrupted: ${count} are not ${word}${failed}`, {
        details: { pending: outcome.pending, total: outcome.total },
      });
  }
}
