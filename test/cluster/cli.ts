/**
 * `npm run cluster:up [-- --nodes 50 --pool name=count[,k=v][,taint:k=v:Effect] ...]` and
 * `npm run cluster:down`: one test control plane per `${FATHOM_CACHE}/cluster/run/`, left
 * running between the two commands and stopped by its recorded process ids.
 */
import { mkdir } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { systemClock } from '../../src/core/clock.js';
import { startCluster } from './cluster.js';
import { parsePoolSpec } from './nodes.js';
import type { NodePool } from './nodes.js';
import { stopRecordedCluster } from './state.js';

export interface UpArgs {
  nodes: number;
  pools: NodePool[];
  timeoutMs: number;
}

const USAGE = `usage: cli.ts up [--nodes N] [--pool name=count[,key=value...][,taint:key=value:Effect]]... [--timeout 180]
       cli.ts down`;

/** Parses `up`'s flags; without --nodes the cluster has the pools' nodes, or 5. */
export function parseUpArgs(argv: readonly string[]): UpArgs {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      nodes: { type: 'string' },
      pool: { type: 'string', multiple: true },
      timeout: { type: 'string' },
    },
    strict: true,
    allowPositionals: false,
  });
  const pools = (values.pool ?? []).map(parsePoolSpec);
  const inPools = pools.reduce((n, p) => n + p.count, 0);
  const nodes = values.nodes === undefined ? inPools || 5 : Number(values.nodes);
  if (!Number.isInteger(nodes) || nodes < 0)
    throw new Error(`--nodes ${values.nodes}: expected a whole number`);
  const timeoutS = values.timeout === undefined ? 180 : Number(values.timeout);
  if (!(timeoutS > 0)) throw new Error(`--timeout ${values.timeout}: expected seconds > 0`);
  return { nodes, pools, timeoutMs: timeoutS * 1000 };
}

/** Where `cluster:up` keeps its kubeconfig, logs and process record. */
export function runDir(): string {
  return join(process.env.FATHOM_CACHE || join(homedir(), '.cache', 'fathom'), 'cluster', 'run');
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  const dir = runDir();
  if (command === 'up') {
    const args = parseUpArgs(rest);
    await mkdir(dir, { recursive: true });
    const cluster = await startCluster({
      nodes: args.nodes,
      pools: args.pools,
      dir,
      timeoutMs: args.timeoutMs,
    });
    cluster.detach();
    process.stdout.write(
      `kubeconfig: ${cluster.kubeconfig}\nserver: ${cluster.server}\nlogs: ${join(dir, 'logs')}\n` +
        `stop with: npm run cluster:down\n\nexport KUBECONFIG=${cluster.kubeconfig}\n`,
    );
    return 0;
  }
  if (command === 'down') {
    if (rest.length > 0) throw new Error(USAGE);
    const stopped = await stopRecordedCluster(dir, systemClock);
    process.stdout.write(
      stopped.length === 0
        ? `no running test cluster recorded in ${dir}\n`
        : `stopped ${stopped.map((p) => `${p.component} (pid ${p.pid})`).join(', ')}\n`,
    );
    return 0;
  }
  throw new Error(USAGE);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err: Error) => {
      process.stderr.write(`${err.message}\n`);
      process.exit(1);
    },
  );
}
