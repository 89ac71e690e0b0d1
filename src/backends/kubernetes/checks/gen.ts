/** `fathom gen checks`: the objects of cluster checks as YAML documents for `kubectl apply -f -`. */
import { renderManifests } from '../manifests.js';
import { checksManifests, type ChecksSecrets } from './manifests.js';
import { checksSpec, type RawChecksOptions } from './options.js';
import { generateChecksSecrets } from './secrets.js';

export interface GenChecksOptions {
  /** The caller's clock reading, for the certificates. */
  readonly now: number;
  /** Fixed material for reproducible output; fresh by default. */
  readonly secrets?: ChecksSecrets;
}

export async function generateChecksYaml(
  raw: RawChecksOptions,
  options: GenChecksOptions,
): Promise<string> {
  const spec = checksSpec(raw);
  const secrets =
    options.secrets ??
    (await generateChecksSecrets({ namespace: spec.namespace, now: options.now }));
  return renderManifests(checksManifests(spec, secrets));
}
