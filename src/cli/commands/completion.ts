import { Argument, type Command } from 'commander';
import type { Io } from '../context.js';

export const SHELLS = ['bash', 'zsh', 'fish'] as const;
export type Shell = (typeof SHELLS)[number];

/** `fathom completion bash|zsh|fish`: a completion script generated from the command tree. */
export function registerCompletion(program: Command, io: Io): void {
  program
    .command('completion')
    .description('print a shell completion script (bash, zsh or fish); see the README to load it')
    .addArgument(new Argument('<shell>', 'the shell to complete in').choices(SHELLS))
    .action(async (shell: Shell) => {
      const { completionScript } = await import('../completion/script.js');
      io.out(completionScript(program, shell));
    });
}
