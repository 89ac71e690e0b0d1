/**
 * Completion in cobra's `__complete` protocol, which kubectl (≥ 1.26) speaks with a plugin's
 * `kubectl_complete-<plugin>` executable: it runs it with the words after `kubectl fathom`, the
 * last being the word at the cursor (maybe empty), and reads one candidate a line (`word` or
 * `word<TAB>description`), then `:<directive>`. Answered from the same tree as the bash, zsh and
 * fish scripts, walked as they walk it.
 */
import { subcommandWords, type CompletionCommand, type ValueCompletion } from './model.js';

/** cobra's ShellCompDirective bits used here. */
export const DIRECTIVE_DEFAULT = 0; // no candidates: the shell completes file names
export const DIRECTIVE_NO_FILE_COMP = 4;

export interface CobraAnswer {
  readonly candidates: readonly string[];
  readonly directive: number;
}

const startsWith = (prefix: string) => (word: string) => word.startsWith(prefix);
const described = (word: string, description: string): string =>
  description ? `${word}\t${description}` : word;

function valueAnswer(value: ValueCompletion, cur: string, prefix = ''): CobraAnswer {
  if (value.kind === 'files') return { candidates: [], directive: DIRECTIVE_DEFAULT };
  const words = value.kind === 'choices' ? value.choices.filter(startsWith(cur)) : [];
  return { candidates: words.map((w) => prefix + w), directive: DIRECTIVE_NO_FILE_COMP };
}

const flagNamed = (cmd: CompletionCommand, name: string) =>
  cmd.flags.find((f) => f.names.includes(name));

/** What may stand at the last of `words` (the words after the program's name). */
export function cobraComplete(root: CompletionCommand, words: readonly string[]): CobraAnswer {
  const before = words.slice(0, -1);
  const cur = words.at(-1) ?? '';
  let cmd = root;
  let nargs = 0;
  let onlyArgs = false; // after `--`
  for (let i = 0; i < before.length; i++) {
    const w = before[i]!;
    if (!onlyArgs && w === '--') {
      onlyArgs = true;
    } else if (!onlyArgs && /^-./.test(w)) {
      if (w.includes('=')) continue; // --flag=value
      const value = flagNamed(cmd, w)?.value;
      if (!value) continue;
      const next = before[i + 1];
      if (next === undefined) {
        // The flag's value is at the cursor (an optional one only if it is not a flag).
        if (!value.optional || !cur.startsWith('-')) return valueAnswer(value.complete, cur);
      } else if (!value.optional || !next.startsWith('-')) i++;
    } else {
      const sub = onlyArgs
        ? undefined
        : cmd.subcommands.find((s) => s.name === w || s.aliases.includes(w));
      if (sub) {
        cmd = sub;
        nargs = 0;
      } else nargs++;
    }
  }
  const eq = cur.indexOf('=');
  if (!onlyArgs && cur.startsWith('--') && eq > 0) {
    const value = flagNamed(cmd, cur.slice(0, eq))?.value;
    if (!value) return { candidates: [], directive: DIRECTIVE_NO_FILE_COMP };
    return valueAnswer(value.complete, cur.slice(eq + 1), cur.slice(0, eq + 1));
  }
  if (!onlyArgs && cur.startsWith('-')) {
    const candidates = cmd.flags.flatMap((f) =>
      f.names.filter(startsWith(cur)).map((n) => described(n, f.description)),
    );
    return { candidates, directive: DIRECTIVE_NO_FILE_COMP };
  }
  if (!onlyArgs && cmd.subcommands.length > 0) {
    const descriptions = new Map(
      cmd.subcommands.flatMap((s) => [s.name, ...s.aliases].map((n) => [n, s.description])),
    );
    const candidates = subcommandWords(cmd)
      .filter(startsWith(cur))
      .map((n) => described(n, descriptions.get(n) ?? ''));
    return { candidates, directive: DIRECTIVE_NO_FILE_COMP };
  }
  const value =
    cmd.args[nargs] ?? (cmd.variadic ? cmd.args.at(-1) : undefined) ?? ({ kind: 'none' } as const);
  return valueAnswer(value, cur);
}

/** The executable's output: candidates one a line, then `:<directive>`. */
export function cobraOutput(answer: CobraAnswer): string {
  return [...answer.candidates, `:${answer.directive}`].join('\n') + '\n';
}
