/**
 * What the suite needs from the machine (the Sonobuoy and kstatus peers, Chromium, Sonobuoy's
 * fixtures in ../shared, the test control plane). On a developer's machine a missing one skips
 * the tests that need it, saying why; under CI it fails them instead, so a broken build or
 * install can never pass as a shorter green run.
 */

/** True when `CI` is set to anything but empty, `0` or `false` (as .ci/run sets it). */
export function underCI(env: NodeJS.ProcessEnv = process.env): boolean {
  const v = env.CI?.trim().toLowerCase();
  return v !== undefined && v !== '' && v !== '0' && v !== 'false';
}

/** The error a missing requirement raises under CI. */
export class MissingUnderCI extends Error {
  constructor(what: string) {
    super(`required under CI (CI is set), but ${what}`);
    this.name = 'MissingUnderCI';
  }
}

/**
 * `have`, for `describe.skipIf(!x)`: when false, warns that the tests skip and returns false,
 * or under CI throws `MissingUnderCI`, failing the test file with `what` as the reason.
 */
export function available(have: boolean, what: string, env = process.env): boolean {
  if (have) return true;
  if (underCI(env)) throw new MissingUnderCI(what);
  console.warn(`skipping: ${what}`);
  return false;
}

/** Inside a test: skips it with `what` as the note, or under CI fails it. */
export function skipOrFail(ctx: { skip(note?: string): never }, what: string): never {
  if (underCI()) throw new MissingUnderCI(what);
  return ctx.skip(what);
}
