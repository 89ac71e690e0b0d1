import { describe, expect, it } from 'vitest';
import type { Io } from '../context.js';
import { buildProgram } from '../main.js';
import { cobraComplete, cobraOutput, DIRECTIVE_DEFAULT, DIRECTIVE_NO_FILE_COMP } from './cobra.js';
import { completionTree } from './model.js';

const io: Io = {
  out: () => undefined,
  err: () => undefined,
  isTTY: false,
  env: {},
  cwd: process.cwd(),
  stdin: (async function* () {})(),
};
const tree = completionTree(buildProgram(io, { name: 'kubectl fathom' }));

/** The candidates' words (descriptions cut off) and the directive, for `kubectl fathom WORDS`. */
function complete(...words: string[]): { words: string[]; directive: number } {
  const a = cobraComplete(tree, words);
  return { words: a.candidates.map((c) => c.split('\t')[0]!), directive: a.directive };
}

describe('kubectl plugin completion (cobra __complete)', () => {
  it('offers the commands, by prefix, with their descriptions', () => {
    expect(complete('re')).toEqual({
      words: ['retrieve', 'resume', 'results'],
      directive: DIRECTIVE_NO_FILE_COMP,
    });
    const run = cobraComplete(tree, ['ru']).candidates;
    expect(run).toEqual([`run\t${tree.subcommands.find((c) => c.name === 'run')!.description}`]);
    expect(complete('').words).toEqual(expect.arrayContaining(['run', 'gen', 'completion']));
  });

  it('walks into subcommands and offers their flags', () => {
    expect(complete('gen', 'plugin', '--na').words).toEqual(['--name']);
    expect(complete('run', '--back').words).toEqual(['--backend']);
  });

  it("offers a flag's choices after it, separate or after `=`", () => {
    expect(complete('run', '--backend', '')).toEqual({
      words: ['local', 'kubernetes'],
      directive: DIRECTIVE_NO_FILE_COMP,
    });
    expect(complete('run', '--backend=k').words).toEqual(['--backend=kubernetes']);
    // A flag's value is skipped: the next word is the command's again.
    expect(complete('run', '--backend', 'local', '--backe').words).toEqual(['--backend']);
  });

  it('offers positional choices and leaves file arguments to the shell', () => {
    expect(complete('completion', '')).toEqual({
      words: ['bash', 'zsh', 'fish'],
      directive: DIRECTIVE_NO_FILE_COMP,
    });
    expect(complete('completion', 'z').words).toEqual(['zsh']);
    expect(complete('results', '')).toEqual({ words: [], directive: DIRECTIVE_DEFAULT });
  });

  it('offers nothing for a value that has no choices, and no file names either', () => {
    expect(complete('gen', 'plugin', '--name', '')).toEqual({
      words: [],
      directive: DIRECTIVE_NO_FILE_COMP,
    });
  });

  it('answers one candidate a line, then :directive', () => {
    expect(cobraOutput({ candidates: ['a', 'b\tthe b'], directive: 4 })).toBe('a\nb\tthe b\n:4\n');
    expect(cobraOutput({ candidates: [], directive: 0 })).toBe(':0\n');
  });
});
