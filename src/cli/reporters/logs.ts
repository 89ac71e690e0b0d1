/** pino's numeric levels, as people read them. */
const levels: Record<number, string> = {
  10: 'TRACE',
  20: 'DEBUG',
  30: 'INFO',
  40: 'WARN',
  50: 'ERROR',
  60: 'FATAL',
};
const skipped = new Set(['level', 'time', 'msg', 'pid', 'hostname', 'run', 'v']);

/**
 * One log line for people: a JSON (pino) line becomes `time LEVEL message key=value...`;
 * anything else (a plugin's own output) is printed as it is.
 */
export function formatLogLine(source: string, line: string): string {
  let record: Record<string, unknown> | undefined;
  if (line.startsWith('{')) {
    try {
      record = JSON.parse(line) as Record<string, unknown>;
    } catch {
      record = undefined;
    }
  }
  if (!record || typeof record.level !== 'number') return `[${source}] ${line}`;
  const time =
    typeof record.time === 'number' ? new Date(record.time).toISOString().slice(11, 23) : '';
  const fields = Object.entries(record)
    .filter(([k]) => !skipped.has(k))
    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`);
  const level = levels[record.level] ?? String(record.level);
  return `[${source}] ${time} ${level.padEnd(5)} ${typeof record.msg === 'string' ? record.msg : ''}${fields.length ? ` ${fields.join(' ')}` : ''}`;
}
