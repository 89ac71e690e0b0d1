/** A past run read back from a tarball: definitions in the run's order, the older spelling, the config. */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tar from 'tar';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isFathomError } from '../core/errors.js';
import { readPastRun } from './past-run.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fathom-past-run-'));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

/** A gzipped tarball of `files` (path → text). */
async function tarball(files: Record<string, string>): Promise<string> {
  const root = join(dir, 'root');
  for (const [rel, text] of Object.entries(files)) {
    await mkdir(join(root, rel, '..'), { recursive: true });
    await writeFile(join(root, rel), text);
  }
  const file = join(dir, 'run.tar.gz');
  await tar.c({ gzip: true, file, cwd: root }, Object.keys(files));
  return file;
}

const definition = (name: string, extra: object = {}): string =>
  JSON.stringify({
    Definition: { 'sonobuoy-config': { driver: 'Job', 'plugin-name': name }, spec: { name: 'p' } },
    ...extra,
  });

describe('readPastRun', () => {
  it("gives the definitions in meta/info.json's order, the timeout and the worker image", async () => {
    const file = await tarball({
      'meta/info.json': JSON.stringify({ plugins: ['zeta', 'alpha'] }),
      'meta/config.json': JSON.stringify({ Server: { timeoutseconds: 420 } }),
      'plugins/alpha/definition.json': definition('alpha'),
      'plugins/zeta/definition.json': definition('zeta', {
        SonobuoyImage: 'registry.example/fathom:1',
        ImagePullPolicy: 'Always',
      }),
    });
    const past = await readPastRun(file);
    expect(past.plugins.map((p) => p.name)).toEqual(['zeta', 'alpha']);
    expect(JSON.parse(past.plugins[1]!.text)).toEqual(JSON.parse(definition('alpha')).Definition);
    expect(past.plugins[0]!.source).toBe(`${file}:plugins/zeta/definition.json`);
    expect(past).toMatchObject({
      timeoutSeconds: 420,
      workerImage: 'registry.example/fathom:1',
      imagePullPolicy: 'Always',
    });
  });

  it("reads Sonobuoy's older spelling (defintion.json) and a tarball without meta/", async () => {
    const past = await readPastRun(
      await tarball({ 'plugins/e2e/defintion.json': definition('e2e') }),
    );
    expect(past.plugins.map((p) => p.name)).toEqual(['e2e']);
    expect(past.timeoutSeconds).toBeUndefined();
  });

  it('refuses a tarball without definitions, and a definition that is not JSON, naming the file', async () => {
    const none = await readPastRun(await tarball({ 'meta/info.json': '{"plugins":[]}' })).catch(
      (e: unknown) => e,
    );
    expect(isFathomError(none, 'FATHOM_RESULTS_INVALID')).toBe(true);
    expect((none as Error).message).toMatch(/holds no plugin definitions/);
    await rm(join(dir, 'root'), { recursive: true });
    const bad = await readPastRun(await tarball({ 'plugins/x/definition.json': '{nope' })).catch(
      (e: unknown) => e,
    );
    expect(isFathomError(bad, 'FATHOM_RESULTS_INVALID')).toBe(true);
    expect((bad as Error).message).toContain('plugins/x/definition.json: not JSON');
  });
});
