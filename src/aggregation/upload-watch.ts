import type { Clock } from '../core/clock.js';
import { FathomError } from '../core/errors.js';
import type { WriteControl } from './ingest.js';

export interface UploadLimits {
  /** Longest time with no byte received. */
  readonly idleMs: number;
  /** Longest time for the whole upload. */
  readonly deadlineMs: number;
}

/** What an upload's watchdog does now: cut it off (and why), or look again at `wakeAt`. */
export type StallVerdict =
  | { readonly expired: 'deadline' | 'idle' }
  | { readonly expired?: undefined; readonly wakeAt: number };

/** Pure: given when the upload started and last sent a byte, is it stalled? */
export function stallVerdict(
  now: number,
  started: number,
  lastByte: number,
  limits: UploadLimits,
): StallVerdict {
  const deadline = started + limits.deadlineMs;
  const idleDue = lastByte + limits.idleMs;
  if (now >= deadline) return { expired: 'deadline' };
  if (now >= idleDue) return { expired: 'idle' };
  return { wakeAt: Math.min(deadline, idleDue) };
}

/**
 * Watches one upload on the injected clock and aborts `inflight` with FATHOM_UPLOAD_STALLED (408)
 * when it stalls. Returns the control to hand to the writer, and a stop function.
 */
export function watchUpload(
  key: string,
  inflight: AbortController,
  options: UploadLimits & { readonly clock: Clock },
): { control: WriteControl; stop: () => void } {
  const { clock } = options;
  const started = clock.now();
  let last = started;
  const stopped = new AbortController();
  const why = {
    deadline: `did not finish within ${options.deadlineMs / 1000}s`,
    idle: `sent nothing for ${options.idleMs / 1000}s`,
  } as const;
  void (async () => {
    while (!stopped.signal.aborted && !inflight.signal.aborted) {
      const verdict = stallVerdict(clock.now(), started, last, options);
      if (verdict.expired) {
        inflight.abort(
          new FathomError(
            'FATHOM_UPLOAD_STALLED',
            `upload of ${key} ${why[verdict.expired]}; send it again`,
            { details: { key } },
          ),
        );
      } else {
        await clock.sleep(verdict.wakeAt - clock.now(), stopped.signal).catch(() => undefined);
      }
    }
  })();
  return {
    control: {
      signal: inflight.signal,
      onBytes: () => {
        last = clock.now();
      },
    },
    stop: () => stopped.abort(),
  };
}
