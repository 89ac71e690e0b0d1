/**
 * The run status in the aggregator pod's annotation, as Sonobuoy keeps it: plain JSON while it
 * is small. Kubernetes caps all of an object's annotations at 256 KiB, and the status grows by
 * ~140 B per node, so past ~64 KiB (about 450 nodes) it is stored gzipped and base64-encoded
 * behind a `gzip:` prefix; the repetitive JSON shrinks 15-30 times, which keeps clusters of
 * tens of thousands of nodes inside the limit.
 */
import { gunzipSync, gzipSync } from 'node:zlib';
import { runStatusSchema } from '../../aggregation/status-schema.js';
import type { RunStatus } from '../../aggregation/types.js';
import { validated } from '../../core/validated.js';
import { STATUS_ANNOTATION } from './names.js';

/** Above this many bytes of JSON the annotation is compressed. */
export const COMPRESS_ABOVE = 64 * 1024;
const PREFIX = 'gzip:';

export function encodeStatusAnnotation(status: RunStatus, threshold = COMPRESS_ABOVE): string {
  const json = JSON.stringify(status);
  if (Buffer.byteLength(json) <= threshold) return json;
  return PREFIX + gzipSync(json, { level: 9 }).toString('base64');
}

/**
 * The status, checked and frozen; undefined when the value is neither form (a reader then waits
 * for the next). JSON of the wrong shape is no passing state: FATHOM_STATE_INVALID naming the
 * annotation and the field.
 */
export function decodeStatusAnnotation(text: string | undefined): RunStatus | undefined {
  if (!text) return undefined;
  let value: unknown;
  try {
    const json = text.startsWith(PREFIX)
      ? gunzipSync(Buffer.from(text.slice(PREFIX.length), 'base64'), {
          // A hostile annotation must not inflate without bound.
          maxOutputLength: 64 * 1024 * 1024,
        }).toString('utf8')
      : text;
    value = JSON.parse(json);
  } catch {
    return undefined;
  }
  return validated(runStatusSchema, value, { file: `annotation ${STATUS_ANNOTATION}` });
}
