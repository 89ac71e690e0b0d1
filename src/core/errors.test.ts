import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { errorCatalogue, exitCodeOf, FathomError, httpStatusOf, isFathomError } from './errors.js';

describe('error catalogue', () => {
  it('documents exactly the codes it defines: kind, meaning and what to do', () => {
    const doc = readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8');
    const documented = new Map(
      [...doc.matchAll(/^\| `(FATHOM_[A-Z_]+)` \| (\w+) \| (.+?) \| (.+?) \|$/gm)].map((m) => [
        m[1],
        { kind: m[2], summary: m[3], action: m[4] },
      ]),
    );
    const defined = new Map(
      Object.entries(errorCatalogue).map(([code, e]) => [
        code,
        { kind: e.kind, summary: e.summary, action: e.action },
      ]),
    );
    expect(documented).toEqual(defined);
  });

  it('maps kinds to HTTP statuses and exit codes in one place', () => {
    expect(httpStatusOf(new FathomError('FATHOM_RESULT_UNEXPECTED', 'x'))).toBe(403);
    expect(httpStatusOf(new FathomError('FATHOM_RESULT_DUPLICATE', 'x'))).toBe(409);
    expect(httpStatusOf(new FathomError('FATHOM_RESULT_TOO_LARGE', 'x'))).toBe(413);
    expect(httpStatusOf(new FathomError('FATHOM_RESULT_BAD_ARCHIVE', 'x'))).toBe(400);
    expect(httpStatusOf(new Error('boom'))).toBe(500);
    expect(exitCodeOf(new FathomError('FATHOM_PLUGIN_INVALID', 'x'))).toBe(2);
    expect(exitCodeOf(new FathomError('FATHOM_RUN_FAILED', 'x'))).toBe(1);
    expect(exitCodeOf(new Error('boom'))).toBe(1);
  });

  it('keeps the cause and details', () => {
    const cause = new Error('root');
    const err = new FathomError('FATHOM_CONFIG_INVALID', 'bad', { cause, details: { field: 'x' } });
    expect(err.cause).toBe(cause);
    expect(err.details).toEqual({ field: 'x' });
    expect(isFathomError(err, 'FATHOM_CONFIG_INVALID')).toBe(true);
    expect(isFathomError(err, 'FATHOM_USAGE')).toBe(false);
  });
});
