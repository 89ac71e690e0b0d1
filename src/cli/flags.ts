import { Option, type Command } from 'commander';
import { parseDuration } from '../core/duration.js';
import { FathomError } from '../core/errors.js';
import { parseByteSize } from '../core/size.js';
import { parseResources } from '../snapshot/config.js';

/** A flag declared as data: commands pick the sets they take, and help stays in one place. */
export interface FlagSpec {
  readonly flags: string;
  readonly description: string;
  readonly default?: string | boolean | string[];
  readonly choices?: readonly string[];
  readonly parse?: (value: string, previous: unknown) => unknown;
  readonly hidden?: boolean;
  readonly env?: string;
}

const repeatable = (value: string, previous: unknown): string[] => [
  ...(Array.isArray(previous) ? (previous as string[]) : []),
  value,
];

export function duration(flag: string) {
  return (value: string): number => parseDuration(value, flag);
}

export function positiveInt(flag: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!/^\d+$/.test(value) || n < 1) {
      throw new FathomError(
        'FATHOM_BAD_FLAG_VALUE',
        `${flag}: expected a whole number above 0, got "${value}"`,
      );
    }
    return n;
  };
}

// A label key (optional DNS-subdomain prefix and a name) and value, as Kubernetes validates them.
const LABEL_NAME = /^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const LABEL_PREFIX = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/;

function isLabelKey(key: string): boolean {
  const slash = key.lastIndexOf('/');
  if (slash < 0) return LABEL_NAME.test(key);
  return LABEL_PREFIX.test(key.slice(0, slash)) && LABEL_NAME.test(key.slice(slash + 1));
}

/** Sonobuoy's `key:value` node selector entries, gathered into one map (a key given twice: the last wins). */
function nodeSelectorEntry(flag: string) {
  return (value: string, previous: unknown): Record<string, string> => {
    const parts = value.split(':');
    const [key = '', label = ''] = parts;
    if (parts.length !== 2 || !isLabelKey(key) || (label !== '' && !LABEL_NAME.test(label))) {
      throw new FathomError(
        'FATHOM_BAD_FLAG_VALUE',
        `${flag}: expected key:value with a label key and value, got "${value}"`,
        { details: { flag, value } },
      );
    }
    const seen = previous && typeof previous === 'object' ? previous : {};
    return { ...(seen as Record<string, string>), [key]: label };
  };
}

/** Flags every command that reaches a cluster takes, as kubectl spells them. */
export const clusterFlags: readonly FlagSpec[] = [
  {
    flags: '-n, --namespace <name>',
    description: 'namespace of the run (one run per namespace)',
    default: 'fathom',
  },
  {
    flags: '--backend <name>',
    description: 'where runs happen',
    choices: ['local', 'kubernetes'],
    default: 'local',
    env: 'FATHOM_BACKEND',
  },
  {
    flags: '--kubeconfig <file>',
    description: 'kubeconfig file (kubernetes backend; default $KUBECONFIG or ~/.kube/config)',
  },
  { flags: '--context <name>', description: 'kubeconfig context (kubernetes backend)' },
  {
    flags: '--request-timeout <duration>',
    description: 'give up on one API request after this long (kubernetes backend; 0 = never)',
    default: '0',
  },
];

const dnsLabel = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

/**
 * Sessions' namespace on Kubernetes unless given: not the runs' `fathom`, since deleting a run
 * may delete the namespace it made.
 */
export const SESSIONS_NAMESPACE = 'fathom-sessions';

/** Where runs on a pool keep their claims on Kubernetes: the session controller's namespace. */
export const sessionsNamespaceFlag: FlagSpec = {
  flags: '--sessions-namespace <name>',
  description:
    "the session controller's namespace, where a run on a pool claims its nodes (kubernetes backend)",
  default: SESSIONS_NAMESPACE,
  env: 'FATHOM_SESSIONS_NAMESPACE',
  parse: (v: string) => {
    if (!dnsLabel.test(v)) {
      throw new FathomError(
        'FATHOM_BAD_FLAG_VALUE',
        `--sessions-namespace: "${v}" is not a DNS label (lower-case letters, digits, -)`,
      );
    }
    return v;
  },
};

/** How and where the kubernetes backend runs fathom's own containers (the aggregator and the workers). */
export const imageFlags: readonly FlagSpec[] = [
  {
    flags: '--image <image>',
    description: "fathom's image for the aggregator and worker containers (kubernetes backend)",
    env: 'FATHOM_IMAGE',
  },
  {
    flags: '--image-pull-policy <policy>',
    description: 'pull policy of those containers and of the built-in plugins (kubernetes backend)',
    choices: ['Always', 'IfNotPresent', 'Never'],
    default: 'IfNotPresent',
  },
  {
    flags: '--aggregator-node-selector <key:value>',
    description:
      'run the aggregator pod only on nodes with this label (repeatable; kubernetes backend)',
    parse: nodeSelectorEntry('--aggregator-node-selector'),
  },
];

export const outputFlag: FlagSpec = {
  flags: '-o, --output <format>',
  description: 'output format',
  choices: ['table', 'json', 'yaml'],
  default: 'table',
};

export const localClusterFlags: readonly FlagSpec[] = [
  {
    flags: '--nodes <count>',
    description:
      'nodes of the local cluster when the run creates it (default 3); refused if an existing cluster has another number',
    parse: positiveInt('--nodes'),
  },
  {
    flags: '--cluster-config <file>',
    description:
      'YAML file of the local cluster (names, labels, taints) when the run creates it; refused if an existing cluster differs',
  },
  {
    flags: '--terminated-grace <duration>',
    description: 'how long a stopped plugin may go without results before it is an error',
    default: '10s',
    parse: duration('--terminated-grace'),
    hidden: true,
  },
];

export const runFlags: readonly FlagSpec[] = [
  {
    flags: '-p, --plugin <file|dir|name>',
    description:
      'plugin to run: a YAML file, a directory of them, e2e, systemd-logs, or an example plugin name (repeatable)',
    parse: repeatable,
  },
  {
    flags: '--from <tarball>',
    description:
      'repeat a past run: its plugins as they ran, its timeout and worker image, from its results tarball',
  },
  {
    flags: '--plugin-env <plugin.KEY=VALUE>',
    description: 'set (or, with an empty value, remove) a plugin env var (repeatable)',
    parse: repeatable,
  },
  {
    flags: '--timeout <duration>',
    description: 'how long each plugin may take to report (0 = no limit)',
    default: '6h',
    parse: duration('--timeout'),
  },
  {
    flags: '--max-result-size <size>',
    description: 'largest result the aggregator accepts from one plugin and node',
    default: '10Gi',
    parse: (v: string) => parseByteSize(v, '--max-result-size'),
  },
  {
    flags: '--config <file>',
    description:
      'a Sonobuoy config JSON (as `sonobuoy gen config` prints): its Resources, Filters and Limits.PodLogs shape the cluster snapshot; other keys are not read',
  },
  {
    flags: '--resources <names>',
    description:
      "what the cluster snapshot lists, comma-separated (Sonobuoy's Resources: resource names such as pods, and podlogs, servergroups, serverversion; nodes also reads each node's configz/healthz; default: every listable resource except secrets)",
    parse: (v: string) => parseResources(v),
  },
  {
    flags: '--wait [duration]',
    description: 'wait for the run to finish, at most this long (default: no limit)',
    parse: duration('--wait'),
  },
];

/**
 * Sonobuoy's flags for its built-in plugins (`-p e2e`, `-p systemd-logs`), checked where the
 * plugins are generated (src/cli/builtins.ts) so that other commands do not load that code.
 */
export const e2eFlags: readonly FlagSpec[] = [
  {
    flags: '-m, --mode <mode>',
    description:
      'e2e mode: certified-conformance, conformance-lite, non-disruptive-conformance (default) or quick',
  },
  {
    flags: '--e2e-focus <regexp>',
    description: "the e2e plugin's E2E_FOCUS (default: the mode's)",
  },
  { flags: '--e2e-skip <regexp>', description: "the e2e plugin's E2E_SKIP (default: the mode's)" },
  {
    flags: '--e2e-parallel <value>',
    description: "the e2e plugin's E2E_PARALLEL (default: the mode's)",
  },
  {
    flags: '--kubernetes-version <version>',
    description:
      "tag of the conformance image (vX.Y.Z; default: the API server's version, on the local backend v1.36.3)",
  },
  {
    flags: '--e2e-repo-config <file>',
    description: "YAML registry list for e2e's test images (KUBE_TEST_REPO_LIST)",
  },
  {
    flags: '--plugin-image <plugin:image>',
    description: "replace a plugin's image (repeatable)",
    parse: repeatable,
  },
  {
    flags: '--kube-conformance-image <image>',
    description: 'the e2e image (--plugin-image e2e:IMAGE)',
  },
  {
    flags: '--systemd-logs-image <image>',
    description: 'the systemd-logs image (--plugin-image systemd-logs:IMAGE)',
  },
  {
    flags: '--rerun-failed <tarball>',
    description: "run only the e2e tests that failed in this run's results tarball",
  },
];

/** Adds declared flags to a command. */
export function applyFlags(command: Command, specs: readonly FlagSpec[]): Command {
  for (const spec of specs) {
    const option = new Option(spec.flags, spec.description);
    if (spec.default !== undefined)
      option.default(
        spec.parse && typeof spec.default === 'string'
          ? spec.parse(spec.default, undefined)
          : spec.default,
        String(spec.default),
      );
    if (spec.choices) option.choices(spec.choices);
    if (spec.parse) option.argParser(spec.parse);
    if (spec.env) option.env(spec.env);
    if (spec.hidden) option.hideHelp();
    command.addOption(option);
  }
  return command;
}
