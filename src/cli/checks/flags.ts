/** The flags of the checks processes and commands, declared as data, and their parsers. */
import { isIP } from 'node:net';
import { readFile } from 'node:fs/promises';
import { FathomError, messageOf } from '../../core/errors.js';
import { duration, positiveInt, type FlagSpec } from '../flags.js';

export const strategies = ['count', 'busyness', 'utilization', 'hashing'] as const;

/** `host:port`, `[v6]:port` or `:port` (every interface). */
export function listenAddress(flag: string) {
  return (value: string): { host: string; port: number } => {
    const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d{1,5})$/.exec(value);
    const host = m ? (m[1] ?? (m[2] || '0.0.0.0')) : '';
    const port = m ? Number(m[3]) : NaN;
    const hostOk = host === 'localhost' || isIP(host) !== 0 || /^[a-z0-9.-]+$/i.test(host);
    if (!m || !hostOk || port > 65535 || (m[1] !== undefined && isIP(host) !== 6)) {
      throw new FathomError(
        'FATHOM_BAD_FLAG_VALUE',
        `${flag}: expected host:port (e.g. 127.0.0.1:5005, :5005, [::1]:5005), got "${value}"`,
        { details: { flag, value } },
      );
    }
    return { host, port };
  };
}

function percent(flag: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!/^\d+(\.\d+)?$/.test(value) || n > 100) {
      throw new FathomError(
        'FATHOM_BAD_FLAG_VALUE',
        `${flag}: expected a percentage from 0 to 100, got "${value}"`,
      );
    }
    return n;
  };
}

function url(flag: string) {
  return (value: string, previous: unknown): string[] => {
    let u: URL | undefined;
    try {
      u = new URL(value);
    } catch {
      u = undefined;
    }
    if (!u || (u.protocol !== 'https:' && u.protocol !== 'http:')) {
      throw new FathomError(
        'FATHOM_BAD_FLAG_VALUE',
        `${flag}: expected an https:// URL, got "${value}"`,
      );
    }
    return [...(Array.isArray(previous) ? (previous as string[]) : []), value];
  };
}

/** A secret from a file (never the environment): the first line, trimmed; empty is refused. */
export async function readSecretFile(file: string, flag: string): Promise<string> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new FathomError('FATHOM_BAD_FLAG_VALUE', `${flag} ${file}: ${messageOf(err)}`, {
      details: { flag, file },
    });
  }
  const token = text.split('\n')[0]!.trim();
  if (!token) throw new FathomError('FATHOM_BAD_FLAG_VALUE', `${flag} ${file}: the file is empty`);
  return token;
}

/** Durations and strategy the dispatcher takes, and `checks up` passes through. */
export const dispatchTuningFlags: readonly FlagSpec[] = [
  {
    flags: '--node-expiration <duration>',
    description: 'a node silent this long is expired and its checks move',
    default: '30s',
    parse: duration('--node-expiration'),
  },
  {
    flags: '--warmup <duration>',
    description: 'a new leader waits this long for agents to re-register before dispatching',
    default: '30s',
    parse: duration('--warmup'),
  },
  {
    flags: '--unscheduled-threshold <duration>',
    description: 'a check with no node for this long is reported unscheduled',
    default: '60s',
    parse: duration('--unscheduled-threshold'),
  },
  {
    flags: '--rebalance-period <duration>',
    description: 'how often checks are rebalanced',
    default: '10m',
    parse: duration('--rebalance-period'),
  },
  {
    flags: '--strategy <name>',
    description: 'placement and rebalancing',
    choices: strategies,
    default: 'count',
  },
  {
    flags: '--min-improvement <percent>',
    description: 'utilization rebalancing moves checks only for this much less spread',
    default: '10',
    parse: percent('--min-improvement'),
  },
  {
    flags: '--lease-duration <duration>',
    description: "how long a leader's lease lasts unrenewed",
    default: '15s',
    parse: duration('--lease-duration'),
  },
  {
    flags: '--lease-renew <duration>',
    description: 'how often the leader renews and the others try',
    default: '2s',
    parse: duration('--lease-renew'),
  },
];

export const dispatcherFlags: readonly FlagSpec[] = [
  {
    flags: '--listen <addr>',
    description: 'address to serve the node-agent API on (HTTPS)',
    default: ':5005',
    parse: listenAddress('--listen'),
  },
  { flags: '--configs <dir>', description: 'directory of check config files, watched' },
  { flags: '--token-file <file>', description: 'file holding the bearer token (required)' },
  { flags: '--tls-dir <dir>', description: 'directory with tls.crt and tls.key (required)' },
  { flags: '--ca-file <file>', description: 'CA certificate verifying the other replicas' },
  ...dispatchTuningFlags,
  { flags: '--lease-file <file>', description: 'elect a leader through this lease file' },
  {
    flags: '--lease <name>',
    description: 'elect a leader through this coordination.k8s.io Lease (in -n)',
  },
  { flags: '--identity <id>', description: 'this replica in the lease (default host-pid)' },
  { flags: '--advertise <host:port>', description: 'where the others reach this replica' },
  {
    flags: '--peer-name <name>',
    description:
      "the name in the replicas' certificate, checked when forwarding (default: the address)",
  },
  {
    flags: '--watch-namespace <ns>',
    description: 'kubernetes: watch check ConfigMaps and Services in this namespace only',
  },
  {
    flags: '--configs-poll <duration>',
    description: 'how often --configs is read again',
    default: '5s',
    parse: duration('--configs-poll'),
    hidden: true,
  },
];

export const agentFlags: readonly FlagSpec[] = [
  { flags: '--node <name>', description: 'the node this agent runs on (required)' },
  {
    flags: '--dispatcher <url>',
    description: "a dispatcher replica's URL (repeatable; any replica will do)",
    parse: url('--dispatcher'),
  },
  { flags: '--token-file <file>', description: 'file holding the bearer token (required)' },
  { flags: '--ca-file <file>', description: 'CA certificate verifying the dispatcher' },
  { flags: '--servername <name>', description: "the name in the dispatcher's certificate" },
  {
    flags: '--poll <duration>',
    description: 'between status posts to the dispatcher',
    default: '10s',
    parse: duration('--poll'),
  },
  {
    flags: '--node-expiration <duration>',
    description: 'stop every check unconfirmed this long (until the dispatcher says its own)',
    default: '30s',
    parse: duration('--node-expiration'),
  },
  {
    flags: '--listen <addr>',
    description: 'serve /healthz and /metrics here (plain HTTP)',
    parse: listenAddress('--listen'),
  },
  {
    flags: '--workers <count>',
    description: 'checks run at once at most',
    default: '4',
    parse: positiveInt('--workers'),
  },
  { flags: '--state-dir <dir>', description: 'where plugin checks keep their last results' },
];
