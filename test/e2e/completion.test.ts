/**
 * `fathom completion bash|zsh|fish` through the built CLI. bash and fish run the generated
 * script for real and are asked what they would complete; zsh's completion system needs a
 * terminal, so its script is syntax-checked and its tables are queried in a real zsh.
 */
import { execFile, spawnSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { fathom, tempDir } from '../support/cli.js';
import { available } from '../support/required.js';

function run(cmd: string, args: readonly string[]): Promise<{ code: number; stdout: string }> {
  return new Promise((resolve) => {
    execFile(cmd, [...args], (err, stdout) =>
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout }),
    );
  });
}

const installed = (shell: string): boolean =>
  spawnSync('sh', ['-c', `command -v ${shell}`]).status === 0;

/** Generates the script with the built CLI and writes it to a file. */
async function script(shell: string): Promise<{ file: string; text: string }> {
  const r = await fathom(['completion', shell]);
  expect(r.code, r.stderr).toBe(0);
  const file = join(await tempDir('completion'), `fathom.${shell}`);
  await writeFile(file, r.stdout);
  return { file, text: r.stdout };
}

describe('fathom completion bash', () => {
  let file = '';
  beforeAll(async () => {
    file = (await script('bash')).file;
  });

  /** What `_fathom` puts in COMPREPLY for these words, the cursor on the last one. */
  async function complete(...words: string[]): Promise<string[]> {
    const r = await run('bash', [
      '-c',
      'source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _fathom; printf "%s\\n" "${COMPREPLY[@]}"',
      'bash',
      file,
      ...words,
    ]);
    expect(r.code).toBe(0);
    return r.stdout.split('\n').filter(Boolean);
  }

  it('completes commands, subcommands and their flags from the command tree', async () => {
    expect(await complete('fathom', 'ses')).toEqual(['session']);
    expect(await complete('fathom', 'session', '')).toEqual([
      'submit',
      'list',
      'get',
      'events',
      'logs',
      'cancel',
      'help',
    ]);
    expect(await complete('fathom', 'cluster', 'create', '--c')).toEqual(['--config', '--context']);
    // Hidden commands stay hidden.
    expect(await complete('fathom', '')).not.toContain('aggregator');
    expect(await complete('fathom', '')).toContain('completion');
  });

  it("offers a flag's choices after it, also as --flag=value", async () => {
    expect(await complete('fathom', 'run', '--backend', '')).toEqual(['local', 'kubernetes']);
    expect(await complete('fathom', 'run', '-o', 'y')).toEqual(['yaml']);
    expect(await complete('fathom', 'run', '--backend', '=', 'k')).toEqual(['kubernetes']);
    expect(await complete('fathom', 'completion', '')).toEqual(['bash', 'zsh', 'fish']);
  });

  it('skips the values of flags before the cursor as commander does', async () => {
    // -n's value is not a command; gen's -n comes before `plugin`, plugin's own -n is --name.
    expect(await complete('fathom', '-n', 'session', 'x')).toEqual([]);
    expect(await complete('fathom', 'gen', '-n', 'ns', 'plugin', '--ty')).toEqual(['--type']);
    // --wait takes a value only when one follows.
    expect(await complete('fathom', 'run', '--wait', '--back')).toEqual(['--backend']);
    expect(await complete('fathom', 'run', '--wait', '5m', '-o', '')).toEqual([
      'table',
      'json',
      'yaml',
    ]);
  });

  it('completes files where a path goes', async () => {
    const dir = await tempDir('completion-files');
    await writeFile(join(dir, 'results.tar.gz'), '');
    expect(await complete('fathom', 'results', join(dir, 'res'))).toEqual([
      join(dir, 'results.tar.gz'),
    ]);
    expect(await complete('fathom', 'run', '--kubeconfig', join(dir, 'r'))).toEqual([
      join(dir, 'results.tar.gz'),
    ]);
    // A name is not a file.
    expect(await complete('fathom', 'session', 'get', join(dir, 'r'))).toEqual([]);
  });
});

describe('fathom completion with an unknown shell', () => {
  it('exits 2 with one line naming the valid shells', async () => {
    const r = await fathom(['completion', 'tcsh']);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^error: .*'tcsh'.*bash, zsh, fish/);
  });
});

describe.skipIf(!available(installed('zsh'), 'zsh is not installed (apt-get install zsh)'))(
  'fathom completion zsh',
  () => {
    it('is valid zsh whose tables hold the commands, flags and choices', async () => {
      const { file, text } = await script('zsh');
      expect(text.startsWith('#compdef fathom\n')).toBe(true);
      expect((await run('zsh', ['-n', file])).code).toBe(0);
      // compdef exists only after compinit, which needs a terminal: the tables need neither.
      const query = (body: string) =>
        run('zsh', ['-f', '-c', `compdef() { :; }; source ${file}; ${body}`]);
      const spec = await query('__fathom_spec session; print -rl -- $__fathom_names');
      expect(spec.stdout.split('\n')).toContain('submit');
      const flags = await query('__fathom_spec run; print -rl -- $__fathom_flags');
      expect(flags.stdout).toContain('--backend:where runs happen');
      const value = await query(
        '__fathom_value run --backend; print -r -- $__fathom_kind $__fathom_words',
      );
      expect(value.stdout.trim()).toBe('choices local kubernetes');
      const output = await query('__fathom_value "session list" -o; print -r -- $__fathom_words');
      expect(output.stdout.trim()).toBe('table json yaml');
    });
  },
);

describe.skipIf(!available(installed('fish'), 'fish is not installed (apt-get install fish)'))(
  'fathom completion fish',
  () => {
    let file = '';
    beforeAll(async () => {
      file = (await script('fish')).file;
    });

    /** fish's own completions for a command line (`complete -C`), without descriptions. */
    async function complete(line: string): Promise<string[]> {
      const r = await run('fish', ['-c', `source ${file}; complete -C '${line}'`]);
      expect(r.code).toBe(0);
      return r.stdout
        .split('\n')
        .filter(Boolean)
        .map((l) => l.split('\t')[0]!);
    }

    it('passes fish --no-execute and completes commands, flags and choices', async () => {
      expect((await run('fish', ['--no-execute', file])).code).toBe(0);
      expect(await complete('fathom ses')).toEqual(['session']);
      expect(await complete('fathom session ')).toEqual([
        'cancel',
        'events',
        'get',
        'help',
        'list',
        'logs',
        'submit',
      ]);
      expect(await complete('fathom run --backend ')).toEqual(['kubernetes', 'local']);
      expect(await complete('fathom run -o ')).toEqual(['json', 'table', 'yaml']);
      expect(await complete('fathom gen -n ns plugin --ty')).toEqual(['--type']);
      expect(await complete('fathom completion ')).toEqual(['bash', 'fish', 'zsh']);
    });
  },
);
