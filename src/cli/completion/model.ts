/**
 * The command tree as shell completion needs it, read from commander's own objects (through its
 * Help API, which also leaves out hidden commands and flags), so a script generated from it
 * follows every command and flag as declared: there is no second list to keep in step.
 */
import type { Argument, Command, Option } from 'commander';

/** What may follow a flag or stand at a positional argument. */
export type ValueCompletion =
  | { readonly kind: 'choices'; readonly choices: readonly string[] }
  | { readonly kind: 'files' }
  | { readonly kind: 'none' };

export interface CompletionFlag {
  /** `-n`, `--namespace`: every spelling. */
  readonly names: readonly string[];
  readonly description: string;
  /** Absent for a switch. An optional value (`--wait [duration]`) is taken only if one follows. */
  readonly value?: { readonly optional: boolean; readonly complete: ValueCompletion };
}

export interface CompletionCommand {
  /** Names from the root's first subcommand down: [] for the program itself. */
  readonly path: readonly string[];
  readonly name: string;
  readonly aliases: readonly string[];
  readonly description: string;
  readonly flags: readonly CompletionFlag[];
  /** Per positional argument; the last repeats when `variadic`. */
  readonly args: readonly ValueCompletion[];
  readonly variadic: boolean;
  readonly subcommands: readonly CompletionCommand[];
}

/** The command the scripts complete: the installed bin, whatever name help shows. */
export const BIN = 'fathom';

// A placeholder that names a path (`<file>`, `<file|dir|name>`, `<tarball|dir>`) completes files.
const PATHLIKE = /\b(file|dir|tarball|kubeconfig)\b/;
const NONE: ValueCompletion = { kind: 'none' };

function firstLine(text: string): string {
  return (text.split('\n')[0] ?? '').trim();
}

function valueOf(choices: readonly string[] | undefined, placeholder: string): ValueCompletion {
  if (choices && choices.length > 0) return { kind: 'choices', choices: [...choices] };
  return PATHLIKE.test(placeholder) ? { kind: 'files' } : NONE;
}

function flagOf(option: Option): CompletionFlag {
  const names = [option.short, option.long].filter((n): n is string => Boolean(n));
  const description = firstLine(option.description);
  if (!option.required && !option.optional) return { names, description };
  const placeholder = /[<[]([^>\]]*)[>\]]/.exec(option.flags)?.[1] ?? '';
  return {
    names,
    description,
    value: { optional: option.optional, complete: valueOf(option.argChoices, placeholder) },
  };
}

function argOf(arg: Argument): ValueCompletion {
  return valueOf(arg.argChoices, arg.name());
}

function commandOf(cmd: Command, path: readonly string[], siblings: string[]): CompletionCommand {
  const help = cmd.createHelp();
  const visible = help.visibleCommands(cmd);
  const names = visible.map((c) => c.name()).filter((n) => n !== 'help');
  // commander's implicit `help [command]` takes the name of a sibling command.
  const isHelp = path.length > 0 && cmd.name() === 'help' && !cmd.commands.length;
  return {
    path,
    name: cmd.name(),
    aliases: cmd.aliases(),
    description: firstLine(cmd.summary() || cmd.description()),
    flags: help.visibleOptions(cmd).map(flagOf),
    args: isHelp ? [{ kind: 'choices', choices: siblings }] : cmd.registeredArguments.map(argOf),
    variadic: cmd.registeredArguments.at(-1)?.variadic ?? false,
    subcommands: visible.map((c) => commandOf(c, [...path, c.name()], names)),
  };
}

/** The visible tree under `program`. */
export function completionTree(program: Command): CompletionCommand {
  return commandOf(program, [], []);
}

/** Every command of the tree, parents before their subcommands. */
export function allCommands(root: CompletionCommand): CompletionCommand[] {
  return [root, ...root.subcommands.flatMap(allCommands)];
}

/** Flags that take a value (required or optional), by every spelling. */
export function valuedFlagNames(cmd: CompletionCommand): string[] {
  return cmd.flags.filter((f) => f.value).flatMap((f) => f.names);
}

/** The names a subcommand answers to: its name, then its aliases. */
export function subcommandWords(cmd: CompletionCommand): string[] {
  return cmd.subcommands.flatMap((c) => [c.name, ...c.aliases]);
}

/** One row of a generated value table: what follows any of `keys` (`FLAG` or `#N`, N from 1). */
export interface ValueRow {
  readonly keys: readonly string[];
  readonly value: ValueCompletion;
}

/** What each of `cmd`'s flags and positional arguments takes, leaving out what completes nothing. */
export function valueRows(cmd: CompletionCommand): ValueRow[] {
  const rows: ValueRow[] = [];
  for (const f of cmd.flags)
    if (f.value && f.value.complete.kind !== 'none')
      rows.push({ keys: f.names, value: f.value.complete });
  cmd.args.forEach((value, i) => {
    if (value.kind !== 'none') rows.push({ keys: [`#${i + 1}`], value });
  });
  return rows;
}

/** Commands that answer to an alias, with the alias, for mapping a typed alias to its name. */
export function aliasRows(
  root: CompletionCommand,
): { parent: string; alias: string; name: string }[] {
  return allCommands(root).flatMap((c) =>
    c.subcommands.flatMap((s) =>
      s.aliases.map((alias) => ({ parent: c.path.join(' '), alias, name: s.name })),
    ),
  );
}

/** A single-quoted word, as bash and zsh both read it. */
export function shQuote(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

/**
 * The `case` clauses bash and zsh share: what a flag or positional argument of each command
 * takes (`assign` spells it per shell), and each alias mapped to its command's name.
 */
export function caseClauses(
  root: CompletionCommand,
  assign: (value: ValueCompletion) => string,
): { values: string[]; aliases: string[] } {
  return {
    values: allCommands(root).flatMap((cmd) =>
      valueRows(cmd).map(
        (row) =>
          `    ${row.keys.map((k) => shQuote(`${cmd.path.join(' ')}|${k}`)).join('|')}) ${assign(row.value)} ;;`,
      ),
    ),
    aliases: aliasRows(root).map(
      (a) => `    ${shQuote(`${a.parent}|${a.alias}`)}) REPLY=${shQuote(a.name)} ;;`,
    ),
  };
}
