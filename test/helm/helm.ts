/**
 * Helm for the chart tests: the binary `test/helm/build.sh` builds from the Go module proxy into
 * `${FATHOM_CACHE:-~/.cache/fathom}/bin/` (never into the repo), run with its own empty config,
 * cache and data dirs and no kubeconfig, so nothing on the machine changes what it renders.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments, stringify } from 'yaml';
import type { KubeObject } from '../../src/backends/kubernetes/api/types.js';

const HERE = dirname(fileURLToPath(import.meta.url));
export const BUILD_SCRIPT = join(HERE, 'build.sh');
export const CHART_DIR = join(HERE, '..', '..', 'charts', 'fathom');

export interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

function run(file: string, args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      file,
      args,
      { env: { ...process.env, ...env }, maxBuffer: 64 << 20, timeout: 120_000 },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** The built binary's path, or why there is none (build.sh --check never builds). */
export async function findHelm(): Promise<{ path: string } | { reason: string }> {
  const r = await run('bash', [BUILD_SCRIPT, '--check']);
  const path = r.stdout.trim();
  if (r.code === 0 && path) return { path };
  return { reason: `helm is not built (run: bash test/helm/build.sh): ${r.stderr.trim()}` };
}

export interface Helm {
  (args: readonly string[]): Promise<Run>;
  /** `helm template` of charts/fathom with these values (and CRDs unless `--skip-crds`), as objects. */
  template(values?: object, extra?: readonly string[]): Promise<KubeObject[]>;
  /** `helm lint --strict` of charts/fathom with these values. */
  lint(values?: object): Promise<Run>;
}

export async function helmRunner(path: string): Promise<Helm> {
  const home = await mkdtemp(join(tmpdir(), 'fathom-helm-'));
  const env = {
    HELM_CONFIG_HOME: join(home, 'config'),
    HELM_CACHE_HOME: join(home, 'cache'),
    HELM_DATA_HOME: join(home, 'data'),
    KUBECONFIG: join(home, 'no-kubeconfig'),
  };
  let n = 0;
  const helm = ((args: readonly string[]) => run(path, args, env)) as Helm;
  const valuesFile = async (values: object) => {
    const file = join(home, `values-${n++}.yaml`);
    await writeFile(file, stringify(values));
    return file;
  };
  helm.lint = async (values = {}) =>
    helm(['lint', CHART_DIR, '--strict', '-f', await valuesFile(values)]);
  helm.template = async (values = {}, extra = []) => {
    const file = await valuesFile(values);
    const crds = extra.includes('--skip-crds') ? [] : ['--include-crds'];
    const r = await helm(['template', 'fathom', CHART_DIR, ...crds, '-f', file, ...extra]);
    if (r.code !== 0) throw new Error(`helm template exited ${r.code}: ${r.stderr.trim()}`);
    return parseObjects(r.stdout);
  };
  return helm;
}

export function parseObjects(text: string): KubeObject[] {
  return parseAllDocuments(text)
    .map((d) => d.toJS() as KubeObject | null)
    .filter((o): o is KubeObject => o !== null && typeof o === 'object');
}
