import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isFathomError } from '../../core/errors.js';
import { main } from '../main.js';
import type { Io } from '../context.js';
import { listenAddress, readSecretFile } from './flags.js';

function io(): Io & { text: () => string } {
  let err = '';
  return {
    out: () => undefined,
    err: (t) => void (err += t),
    isTTY: false,
    env: {},
    cwd: process.cwd(),
    stdin: (async function* () {})(),
    text: () => err,
  };
}

describe('listenAddress', () => {
  const parse = listenAddress('--listen');
  it.each([
    ['127.0.0.1:5005', { host: '127.0.0.1', port: 5005 }],
    [':5005', { host: '0.0.0.0', port: 5005 }],
    ['[::1]:0', { host: '::1', port: 0 }],
    ['localhost:80', { host: 'localhost', port: 80 }],
  ])('%s', (value, want) => expect(parse(value)).toEqual(want));

  it.each(['5005', '127.0.0.1:99999', '[nope]:1', 'a b:1', '::1:5'])('refuses %s', (value) => {
    expect(() => parse(value)).toThrow(/--listen: expected host:port/);
  });
});

describe('readSecretFile', () => {
  it('reads the first line trimmed; an empty or missing file is bad input naming the flag', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'fathom-secret-'));
    try {
      await writeFile(join(dir, 't'), 'abc \nrest');
      expect(await readSecretFile(join(dir, 't'), '--token-file')).toBe('abc');
      await writeFile(join(dir, 'e'), '\n');
      const empty = await readSecretFile(join(dir, 'e'), '--token-file').catch((e: unknown) => e);
      expect(isFathomError(empty, 'FATHOM_BAD_FLAG_VALUE')).toBe(true);
      expect((empty as Error).message).toMatch(/--token-file .*e: the file is empty/);
      const gone = await readSecretFile(join(dir, 'x'), '--token-file').catch((e: unknown) => e);
      expect((gone as Error).message).toMatch(/ENOENT/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('the dispatcher and agent commands refuse bad flags before starting', () => {
  it.each([
    [['dispatcher', '--warmup', '3x'], /^error: --warmup: invalid duration "3x"/],
    [['dispatcher', '--node-expiration', ''], /^error: --node-expiration: invalid duration/],
    [['dispatcher', '--strategy', 'fastest'], /^error: option '--strategy <name>' argument/],
    [
      ['dispatcher', '--min-improvement', '150'],
      /^error: --min-improvement: expected a percentage/,
    ],
    [['dispatcher'], /^error: --token-file is required/],
    [['dispatcher', '--lease-file', 'a.json', '--lease', 'b'], /^error: --lease-file and --lease/],
    [['agent', '--dispatcher', 'https://x:1'], /^error: --node is required/],
    [['agent', '--node', 'n', '--poll', 'soon'], /^error: --poll: invalid duration/],
    [['agent', '--node', 'n', '--workers', '0'], /^error: --workers: expected a whole number/],
  ])('%j', async (argv, message) => {
    const out = io();
    expect(await main(['node', 'fathom', ...argv], out)).toBe(2);
    expect(out.text()).toMatch(message);
    expect(out.text().trim().split('\n')).toHaveLength(1);
  });
});
