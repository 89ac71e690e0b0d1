/** `fathom gen sessions`: the objects of sessions as YAML documents for `kubectl apply -f -`. */
import { renderManifests } from '../manifests.js';
import { sessionsManifests } from './manifests.js';
import { sessionsSpec, type RawSessionsOptions } from './options.js';

export function generateSessionsYaml(raw: RawSessionsOptions): string {
  return renderManifests(sessionsManifests(sessionsSpec(raw)));
}
