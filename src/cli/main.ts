import { Command, CommanderError } from 'commander';
import { errorCatalogue, exitCodeOf, FathomError, messageOf } from '../core/errors.js';
import { VERSION } from '../core/version.js';
import { visible } from '../core/visible.js';
import { registerCheckDaemons } from './commands/checks-daemons.js';
import { registerChecks } from './commands/checks.js';
import { registerCluster } from './commands/cluster.js';
import { registerCompletion } from './commands/completion.js';
import { registerGen } from './commands/gen.js';
import { registerHealth } from './commands/health.js';
import { registerInternal } from './commands/internal.js';
import { registerResults } from './commands/results.js';
import { registerRun } from './commands/run.js';
import { registerRunCommands } from './commands/runs.js';
import { registerSessions } from './commands/session.js';
import { processIo, type Io } from './context.js';

export interface ProgramOptions {
  /** What help calls the program: `kubectl fathom` when kubectl runs it as a plugin. */
  readonly name?: string;
}

/** Builds the command tree. Every command writes through `io` and throws FathomErrors. */
export function buildProgram(io: Io, options: ProgramOptions = {}): Command {
  const program = new Command(options.name ?? 'fathom')
    .description(
      'Run tests and diagnostics on every node of a cluster and bring every result home.',
    )
    .version(VERSION)
    .showSuggestionAfterError()
    // Options after a command belong to it (`gen -n NS` but `gen plugin -n NAME`).
    .enablePositionalOptions()
    .configureOutput({
      writeOut: (s) => io.out(s),
      writeErr: (s) => io.err(s),
      outputError: () => undefined,
    })
    .exitOverride();
  registerRun(program, io);
  registerRunCommands(program, io);
  registerCluster(program, io);
  registerGen(program, io);
  registerResults(program, io);
  registerHealth(program, io);
  registerChecks(program, io);
  registerSessions(program, io);
  registerCheckDaemons(program, io);
  registerCompletion(program, io);
  registerInternal(program, io);
  for (const c of program.commands)
    c.exitOverride().configureOutput({ outputError: () => undefined });
  return program;
}

/** Runs the CLI and returns the exit code: 0 ok, 1 failure, 2 bad input (nothing started). */
export async function main(
  argv: readonly string[],
  io: Io = processIo,
  options: ProgramOptions = {},
): Promise<number> {
  try {
    await buildProgram(io, options).parseAsync([...argv]);
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.exitCode === 0) return 0; // --help, --version
      io.err(`error: ${visible(err.message.replace(/^error: /, ''))}\n`);
      return 2;
    }
    // Messages can carry what a plugin, a tarball or the network said.
    io.err(`error: ${visible(messageOf(err))}\n`);
    // People at a terminal also get the catalogue's advice; scripts keep one line.
    if (err instanceof FathomError && io.isTTY) {
      io.err(`hint: ${errorCatalogue[err.code].action} (${err.code})\n`);
    }
    if (!(err instanceof FathomError) && io.env.FATHOM_DEBUG)
      io.err(`${(err as Error).stack ?? ''}\n`);
    return exitCodeOf(err);
  }
}
