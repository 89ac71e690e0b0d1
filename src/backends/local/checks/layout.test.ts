import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isFathomError } from '../../../core/errors.js';
import { checksLayout, readChecksState, requireChecksState } from './layout.js';

let home: string;
beforeEach(async () => {
  home = await mkdtemp(join(tmpdir(), 'fathom-checks-layout-'));
});
afterEach(() => rm(home, { recursive: true, force: true }));

describe('the local checks state file', () => {
  it('is absent before `checks up`: reading says how to start them', async () => {
    const layout = checksLayout(home);
    expect(await readChecksState(layout)).toBeUndefined();
    const err = await requireChecksState(layout).catch((e: unknown) => e);
    expect(isFathomError(err, 'FATHOM_CHECKS_NOT_UP')).toBe(true);
    expect((err as Error).message).toMatch(/`fathom checks up` starts them/);
  });

  it('is checked when read: a bad field is named with the file', async () => {
    const layout = checksLayout(home);
    await mkdir(layout.dir, { recursive: true });
    const good = {
      apiVersion: 'fathom.dev/v1alpha1',
      kind: 'Checks',
      createdAt: '2026-01-01T00:00:00.000Z',
      configs: '/x',
      replicas: [{ name: 'dispatcher-1', url: 'https://127.0.0.1:1' }],
      agents: [{ node: 'node-1' }],
    };
    await writeFile(layout.state, JSON.stringify(good));
    expect(await readChecksState(layout)).toEqual(good);
    await writeFile(
      layout.state,
      JSON.stringify({ ...good, replicas: [{ name: 'd', url: 'ftp://x' }] }),
    );
    const err = await readChecksState(layout).catch((e: unknown) => e);
    expect(isFathomError(err, 'FATHOM_STATE_INVALID')).toBe(true);
    expect((err as Error).message).toMatch(/state\.json: replicas\[0\]\.url: /);
  });
});
