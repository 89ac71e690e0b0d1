/**
 * Where local cluster checks live: `$FATHOM_HOME/checks/` holds the state file (replica and
 * agent URLs, checked against its schema when read), the bearer token (0600), the CA and the
 * replicas' certificate (`tls/`), the lease file, and each daemon's pid file and log. Check
 * configs default to `$FATHOM_HOME/checks.d/`, which `checks down` leaves in place.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { FathomError } from '../../../core/errors.js';
import { Type, type Static } from '../../../core/schema.js';
import { validatedJson } from '../../../core/validated.js';
import { PACKAGE_ROOT } from '../../../core/version.js';
import { daemonFiles, type DaemonSpec } from '../process/daemon.js';

export const CHECKS_API_VERSION = 'fathom.dev/v1alpha1';
export const LEASE_NAME = 'dispatcher';

export function checksLayout(home: string) {
  const dir = join(home, 'checks');
  return {
    dir,
    state: join(dir, 'state.json'),
    token: join(dir, 'token'),
    tls: join(dir, 'tls'),
    ca: join(dir, 'tls', 'ca.crt'),
    lease: join(dir, 'leases', `${LEASE_NAME}.json`),
    agentState: (node: string) => join(dir, 'agents', node),
    defaultConfigs: join(home, 'checks.d'),
  };
}

export type ChecksLayout = ReturnType<typeof checksLayout>;

const url = Type.String({ pattern: '^https?://' });

export const checksStateSchema = Type.Object(
  {
    apiVersion: Type.Literal(CHECKS_API_VERSION),
    kind: Type.Literal('Checks'),
    createdAt: Type.String(),
    configs: Type.String({ minLength: 1 }),
    replicas: Type.Array(
      Type.Object({
        name: Type.String({ minLength: 1 }),
        url,
        /** How it was started: `checks up` restarts a dead one the same way, at the same address. */
        argv: Type.Optional(Type.Array(Type.String(), { minItems: 1 })),
      }),
      { minItems: 1 },
    ),
    agents: Type.Array(
      Type.Object({
        node: Type.String({ minLength: 1 }),
        url: Type.Optional(url),
        argv: Type.Optional(Type.Array(Type.String(), { minItems: 1 })),
      }),
    ),
  },
  { additionalProperties: false },
);

export type ChecksState = Static<typeof checksStateSchema>;

/** The state file, or undefined when checks are not up; FATHOM_STATE_INVALID when corrupt. */
export async function readChecksState(layout: ChecksLayout): Promise<ChecksState | undefined> {
  const text = await readFile(layout.state, 'utf8').catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return undefined;
    throw err;
  });
  return text === undefined
    ? undefined
    : validatedJson(checksStateSchema, text, { file: layout.state });
}

export async function requireChecksState(layout: ChecksLayout): Promise<ChecksState> {
  const state = await readChecksState(layout);
  if (!state) {
    throw new FathomError(
      'FATHOM_CHECKS_NOT_UP',
      'no cluster checks run on the local backend: `fathom checks up` starts them',
    );
  }
  return state;
}

const fathomBin = (): string => join(PACKAGE_ROOT, 'bin', 'fathom.js');

export function dispatcherDaemon(
  layout: ChecksLayout,
  index: number,
  configs: string,
  settingsArgs: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): DaemonSpec {
  const name = `dispatcher-${index}`;
  return {
    name,
    argv: [
      process.execPath,
      fathomBin(),
      'dispatcher',
      '--backend',
      'local',
      '--listen',
      '127.0.0.1:0',
      '--identity',
      name,
      '--configs',
      configs,
      '--token-file',
      layout.token,
      '--tls-dir',
      layout.tls,
      '--ca-file',
      layout.ca,
      '--lease-file',
      layout.lease,
      ...settingsArgs,
    ],
    files: daemonFiles(layout.dir, name),
    env,
  };
}

export function agentDaemon(
  layout: ChecksLayout,
  node: string,
  dispatchers: readonly string[],
  settingsArgs: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): DaemonSpec {
  const name = `agent-${node}`;
  return {
    name,
    argv: [
      process.execPath,
      fathomBin(),
      'agent',
      '--backend',
      'local',
      '--node',
      node,
      ...dispatchers.flatMap((u) => ['--dispatcher', u]),
      '--token-file',
      layout.token,
      '--ca-file',
      layout.ca,
      '--listen',
      '127.0.0.1:0',
      '--state-dir',
      layout.agentState(node),
      ...settingsArgs,
    ],
    files: daemonFiles(layout.dir, name),
    env,
  };
}

/** `argv` with its `--listen` address replaced by the host and port of `url` (a restart keeps it). */
export function listeningAt(argv: readonly string[], url: string | undefined): string[] {
  const out = [...argv];
  const i = out.indexOf('--listen');
  if (url && i >= 0 && i + 1 < out.length) out[i + 1] = new URL(url).host;
  return out;
}
