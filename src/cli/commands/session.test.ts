/**
 * The session commands' flags and bad input, through the real command tree: every refusal is one
 * `error:` line and exit 2, before any controller is started or any state is written.
 */
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runMain } from '../../../test/support/main.js';

let home: string;
beforeAll(async () => {
  home = await mkdtemp(join(tmpdir(), 'fathom-session-cli-'));
});
afterAll(() => rm(home, { recursive: true, force: true }));

const run = (args: readonly string[], dir = home) =>
  runMain(args, { env: { FATHOM_HOME: dir }, cwd: dir });

const oneError = (err: string): string => {
  expect(err.split('\n').filter(Boolean)).toHaveLength(1);
  expect(err).toMatch(/^error: /);
  return err;
};

describe('session commands: flags and bad input', () => {
  it('the help lists session and pools; the controller process stays hidden', async () => {
    const r = await run(['--help']);
    expect(r.out).toMatch(/^ +session /m);
    expect(r.out).toMatch(/^ +pools /m);
    expect(r.out).not.toMatch(/session-controller/);
    const s = await run(['session', '--help']);
    for (const c of ['submit', 'list', 'get', 'events', 'logs', 'cancel']) {
      expect(s.out).toMatch(new RegExp(`^ +${c} `, 'm'));
    }
  });

  it('--backend kubernetes: a component without an image, or a missing kubeconfig: exit 2, one line, no cluster reached', async () => {
    await writeFile(
      join(home, 'noimage.yaml'),
      [
        'apiVersion: fathom.dev/v1alpha1',
        'kind: Session',
        'metadata: {name: x}',
        'spec:',
        '  components:',
        '    - {name: d, kind: driver, pool: drivers, command: [a]}',
      ].join('\n'),
    );
    const noImage = await run([
      'session',
      'submit',
      '-f',
      'noimage.yaml',
      '--backend',
      'kubernetes',
    ]);
    expect(noImage.code).toBe(2);
    expect(oneError(noImage.err)).toMatch(/noimage\.yaml:6:\d+: spec\.components\[0\].*image/);
    const kubeconfig = join(home, 'no-such-kubeconfig');
    for (const args of [['session', 'get', 'x'], ['session', 'list'], ['pools']]) {
      const r = await run([...args, '--backend', 'kubernetes', '--kubeconfig', kubeconfig]);
      expect(r.code).toBe(2);
      expect(oneError(r.err)).toContain(kubeconfig);
    }
    await rm(join(home, 'noimage.yaml'));
  });

  it('a malformed session: exit 2, one line naming file:line:col and the field; nothing stored', async () => {
    await writeFile(
      join(home, 'bad.yaml'),
      [
        'apiVersion: fathom.dev/v1alpha1',
        'kind: Session',
        'metadata: {name: x}',
        'spec:',
        '  components:',
        '    - name: d',
        '      kind: driver',
        '      pool: drivers',
        '      replicas: two',
        '      command: [a]',
      ].join('\n'),
    );
    const r = await run(['session', 'submit', '-f', 'bad.yaml']);
    expect(r.code).toBe(2);
    expect(oneError(r.err)).toMatch(/^error: bad\.yaml:9:17: spec\.components\[0\]\.replicas/);
    // Refused at the edge: no store, no controller.
    expect(await readdir(home)).toEqual(['bad.yaml']);
  });

  it('a corrupt state.db: exit 2, one line naming it, never a silent reset', async () => {
    const corrupt = await mkdtemp(join(tmpdir(), 'fathom-session-corrupt-'));
    try {
      const text = 'not a database\n'.repeat(300);
      await writeFile(join(corrupt, 'state.db'), text);
      const r = await run(['session', 'list'], corrupt);
      expect(r.code).toBe(2);
      expect(r.out).toBe('');
      expect(oneError(r.err)).toContain(join(corrupt, 'state.db'));
      expect(await readFile(join(corrupt, 'state.db'), 'utf8')).toBe(text);
    } finally {
      await rm(corrupt, { recursive: true, force: true });
    }
  });

  it('a missing file, a missing -f, a bad -o or --executors: exit 2, one line', async () => {
    const missing = await run(['session', 'submit', '-f', 'missing.yaml']);
    expect(missing.code).toBe(2);
    expect(oneError(missing.err)).toMatch(/-f missing\.yaml/);
    const noFile = await run(['session', 'submit']);
    expect(noFile.code).toBe(2);
    expect(oneError(noFile.err)).toMatch(/--file/);
    const badOut = await run(['pools', '-o', 'xml']);
    expect(badOut.code).toBe(2);
    oneError(badOut.err);
    const badExec = await run(['session-controller', '--executors', '0']);
    expect(badExec.code).toBe(2);
    expect(oneError(badExec.err)).toMatch(/--executors/);
  });
});
