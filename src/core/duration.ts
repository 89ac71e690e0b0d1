import { FathomError } from './errors.js';

const unitMs: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const part = /(\d+(?:\.\d+)?)(ms|s|m|h)/y;

/**
 * Parses a duration the way kubectl and Go do (`90s`, `5m`, `1h30m`, `250ms`); a bare
 * number means seconds, as Sonobuoy's `--timeout` did. `0` means no limit to callers that allow it.
 */
export function parseDuration(text: string, flag = 'duration'): number {
  const s = text.trim();
  if (/^\d+$/.test(s)) return Number(s) * 1000;
  let total = 0;
  part.lastIndex = 0;
  let matched = 0;
  while (part.lastIndex < s.length) {
    const m = part.exec(s);
    if (!m) break;
    total += Number(m[1]) * unitMs[m[2]!]!;
    matched = part.lastIndex;
  }
  if (s === '' || matched !== s.length) {
    throw new FathomError(
      'FATHOM_BAD_DURATION',
      `${flag}: invalid duration "${text}" (use forms like 90s, 5m, 1h30m)`,
      { details: { flag, value: text } },
    );
  }
  return Math.round(total);
}

/** Formats milliseconds as Go does for `time.Duration.String()`-like output (`1h2m3s`, `1.5s`, `250ms`). */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  let rest = ms / 1000;
  const h = Math.floor(rest / 3600);
  rest -= h * 3600;
  const m = Math.floor(rest / 60);
  rest -= m * 60;
  const s = Number(rest.toFixed(3)).toString();
  return `${h ? `${h}h` : ''}${h || m ? `${m}m` : ''}${s}s`;
}
