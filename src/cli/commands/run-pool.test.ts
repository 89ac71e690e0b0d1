/**
 * `fathom run --pool`'s flags through the real command tree: every refusal is one `error:` line
 * and exit 2, before any run, claim or controller exists.
 */
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runMain } from '../../../test/support/main.js';

let home: string;
beforeAll(async () => {
  home = await mkdtemp(join(tmpdir(), 'fathom-run-pool-cli-'));
});
afterAll(() => rm(home, { recursive: true, force: true }));

const run = (args: readonly string[]) => runMain(args, { env: { FATHOM_HOME: home }, cwd: home });

describe('run --pool: flags and bad input', () => {
  it.each([
    {
      args: ['--pool', 'servers', '--backend', 'kubernetes', '--sessions-namespace', 'Bad_NS'],
      line: /--sessions-namespace: "Bad_NS" is not a DNS label/,
    },
    { args: ['--pool-nodes', '2'], line: /--pool-nodes needs --pool/ },
    { args: ['--pool', 'no/pe'], line: /--pool: "no\/pe" is not a label value/ },
    { args: ['--pool', 'servers', '--pool-nodes', '0'], line: /--pool-nodes: expected a whole/ },
    { args: ['--pool', 'servers', '--pool-priority', 'high'], line: /--pool-priority: "high"/ },
  ])('$args: exit 2, one line, nothing written', async ({ args, line }) => {
    const r = await run(['run', '-p', 'node-inventory', ...args]);
    expect(r.code).toBe(2);
    expect(r.err.split('\n').filter(Boolean)).toHaveLength(1);
    expect(r.err).toMatch(/^error: /);
    expect(r.err).toMatch(line);
    expect(await readdir(home)).toEqual([]);
  });
});
