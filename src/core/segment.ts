/**
 * Names that come from the network or a cluster (plugin, node, file, namespace, pod) become one
 * path segment only once checked: never empty, `.` or `..`, no separator or control character,
 * within NAME_MAX.
 */
import { FathomError } from './errors.js';

const MAX_SEGMENT_BYTES = 255; // NAME_MAX on the filesystems results land on
// eslint-disable-next-line no-control-regex
const UNSAFE_SEGMENT = /[/\\\u0000-\u001f\u007f]/;

/** True when `name` can be one path component. */
export function isSafeSegment(name: string): boolean {
  return (
    name.length > 0 &&
    name !== '.' &&
    name !== '..' &&
    !UNSAFE_SEGMENT.test(name) &&
    Buffer.byteLength(name) <= MAX_SEGMENT_BYTES
  );
}

/** `name`, or FATHOM_RESULT_BAD_NAME naming `what` when it is not a safe path segment. */
export function safeSegment(what: string, name: string): string {
  if (!isSafeSegment(name)) {
    throw new FathomError(
      'FATHOM_RESULT_BAD_NAME',
      `${what} name ${JSON.stringify(name)} is not a safe path segment`,
      { details: { [what]: name } },
    );
  }
  return name;
}
