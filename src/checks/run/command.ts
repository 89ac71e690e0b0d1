/** `command`: a local program read as a Nagios plugin (exit 0 ok, 1 warning, 2 critical, else unknown). */
import { KiB } from '../../core/bounded.js';
import { messageOf } from '../../core/errors.js';
import type { CommandInstance } from '../instances.js';
import type { CheckStatus } from '../types.js';
import { lastLine, oneLine } from './message.js';
import { runCapped } from './process.js';
import type { RunContext, RunOutcome } from './types.js';

export const DEFAULT_MAX_OUTPUT_BYTES = 64 * KiB;

/** What a check's process inherits from the agent: enough to find programs, nothing secret. */
export function baseEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const k of ['PATH', 'HOME', 'LANG', 'LC_ALL', 'TZ', 'TMPDIR']) {
    const v = process.env[k];
    if (v !== undefined) env[k] = v;
  }
  env.PATH ??= '/usr/local/bin:/usr/bin:/bin';
  return env;
}

const NAGIOS: readonly CheckStatus[] = ['ok', 'warning', 'critical'];

export async function runCommand(instance: CommandInstance, ctx: RunContext): Promise<RunOutcome> {
  const [command, ...args] = instance.command;
  const max = instance.max_output_bytes ?? DEFAULT_MAX_OUTPUT_BYTES;
  let result;
  try {
    result = await runCapped({
      command,
      args,
      env: { ...baseEnv(), ...instance.env },
      maxOutputBytes: max,
      signal: ctx.signal,
    });
  } catch (err) {
    if (ctx.signal.aborted) throw err;
    // Nagios: a plugin that cannot be run is unknown.
    return { status: 'unknown', message: `cannot run ${command}: ${messageOf(err)}`, metrics: {} };
  }
  const metrics: Record<string, number> = {
    output_bytes: result.output.length,
    output_dropped_bytes: result.droppedBytes,
  };
  const said = lastLine(result.tail);
  if (result.exitCode === undefined) {
    const why = `${command} was killed by ${result.exitSignal ?? 'a signal'}`;
    return { status: 'unknown', message: said ? `${why}: ${said}` : why, metrics };
  }
  metrics.exit_code = result.exitCode;
  let status: CheckStatus = NAGIOS[result.exitCode] ?? 'unknown';
  let message = said || (status === 'ok' ? '' : `${command} exited with code ${result.exitCode}`);
  if (instance.output_regex !== undefined && status !== 'critical') {
    const re = new RegExp(instance.output_regex, 'm');
    if (!re.test(result.output.toString('utf8'))) {
      status = 'critical';
      message = oneLine(
        `output does not match /${instance.output_regex}/${said ? `: ${said}` : ''}`,
      );
    }
  }
  return { status, message, metrics };
}
