/**
 * `errors/.../error.json`: what the aggregator records when a plugin failed or timed out instead
 * of reporting. Each becomes a leaf named by its error text, `failed` (or `timeout` when the text
 * mentions "timeout"), with every key copied into `details` as Go's fmt.Sprint prints it.
 */
import { goSprint } from './gofmt.js';
import { type Item, STATUS_FAILED, STATUS_TIMEOUT, STATUS_UNKNOWN } from './item.js';
import { readCapped } from './manual.js';

/** The file name the aggregator writes and post-processing looks for. */
export const ERROR_FILE = 'error.json';

const MAX_ERROR_FILE_BYTES = 16 * 1024 * 1024;

/**
 * One error.json as a leaf. `rel` is its path relative to the plugin directory.
 * Differences from Sonobuoy, on purpose: an undecodable file also gets `meta.error`, and a file
 * without an `error` key keeps the name `error.json` (Sonobuoy names it `<nil>`).
 */
export async function readErrorFile(path: string, rel: string, name: string): Promise<Item> {
  const item: Item = { name, status: STATUS_FAILED, meta: { file: rel } };
  let text: string;
  try {
    text = await readCapped(path, MAX_ERROR_FILE_BYTES);
  } catch (err) {
    item.status = STATUS_UNKNOWN;
    item.meta!.error = (err as Error).message;
    return item;
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    item.meta!.error = `decoding ${rel}: ${(err as Error).message}`;
    return item;
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    item.meta!.error = `decoding ${rel}: expected a JSON object`;
    return item;
  }
  const details: Record<string, unknown> = {};
  try {
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) details[k] = goSprint(v);
  } catch (err) {
    // Only absurd nesting gets here (the call stack runs out).
    item.meta!.error = `decoding ${rel}: ${(err as Error).message}`;
    return item;
  }
  if (Object.keys(details).length > 0) item.details = details;
  const error = details.error;
  if (typeof error === 'string' && error !== '') item.name = error;
  if (typeof error === 'string' && error.includes('timeout')) item.status = STATUS_TIMEOUT;
  return item;
}
