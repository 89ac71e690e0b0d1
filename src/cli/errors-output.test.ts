/**
 * How an error reaches the user: one `error:` line for scripts and pipes; at a terminal also the
 * catalogue's advice, so the "what to do" of docs/errors.md is where people need it.
 */
import { describe, expect, it } from 'vitest';
import { errorCatalogue } from '../core/errors.js';
import { runMain } from '../../test/support/main.js';

const run = (args: readonly string[], isTTY: boolean) => runMain(args, { isTTY });

describe('error output', () => {
  const args = ['run', '--timeout', 'soon'];

  it('is one line when not at a terminal', async () => {
    const r = await run(args, false);
    expect(r.code).toBe(2);
    expect(r.err.trimEnd().split('\n')).toHaveLength(1);
    expect(r.err).toMatch(/^error: .*soon/);
  });

  it("adds the catalogue's advice with the code at a terminal", async () => {
    const r = await run(args, true);
    const lines = r.err.trimEnd().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[1]).toBe(
      `hint: ${errorCatalogue.FATHOM_BAD_DURATION.action} (FATHOM_BAD_DURATION)`,
    );
  });
});
