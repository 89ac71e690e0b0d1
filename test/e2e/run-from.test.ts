/**
 * `fathom run --from TARBALL` (sonobuoy#634) through the built CLI on the local backend: a run
 * with its own plugin env, timeout and a plugin file that is gone afterwards is repeated from its
 * retrieved tarball alone; the second run's plugins (definition.json), env and timeout
 * (meta/config.json) are the first's, and a flag given again wins. Bad input: one line, exit 2.
 */
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tar from 'tar';
import { fathom, tempDir } from '../support/cli.js';

const plugin = `
sonobuoy-config:
  driver: DaemonSet
  plugin-name: greet
  result-format: raw
spec:
  name: plugin
  image: busybox:1.36
  command: [sh, -c, 'mkdir -p "$RESULTS_DIR/out" && echo "$GREETING" > "$RESULTS_DIR/out/env.txt" && echo "$RESULTS_DIR/out" > "$RESULTS_DIR/done"']
  env:
    - {name: GREETING, value: from-yaml}
`;

interface Extracted {
  definition: { Definition: { spec: { env: { name: string; value: string }[] } } };
  timeoutSeconds: number;
  greetings: string[];
}

describe('fathom run --from a past run', () => {
  let home: string;
  let dir: string;
  const env = (): NodeJS.ProcessEnv => ({ FATHOM_HOME: home });

  beforeAll(async () => {
    home = await tempDir('run-from');
    dir = await tempDir('run-from-files');
  });
  afterAll(async () => {
    await fathom(['cluster', 'delete', '--force'], env());
    await rm(home, { recursive: true, force: true });
    await rm(dir, { recursive: true, force: true });
  });

  /** Runs to the end in namespace `ns`, retrieves and opens the tarball. */
  async function runAndOpen(ns: string, args: string[]): Promise<{ tarball: string } & Extracted> {
    const run = await fathom(['run', '-n', ns, '--wait', ...args], env());
    expect(run.code, run.stderr).toBe(0);
    const out = join(dir, ns);
    await mkdir(out);
    const retrieved = await fathom(['retrieve', out, '-n', ns], env());
    expect(retrieved.code, retrieved.stderr).toBe(0);
    const tarball = retrieved.stdout.trim();
    const files = new Map<string, string>();
    await tar.t({
      file: tarball,
      onReadEntry: (e) => {
        const chunks: Buffer[] = [];
        e.on('data', (c: Buffer) => chunks.push(c));
        e.on('end', () => files.set(e.path, Buffer.concat(chunks).toString('utf8')));
      },
    });
    const config = JSON.parse(files.get('meta/config.json')!) as {
      Server: { timeoutseconds: number };
    };
    return {
      tarball,
      definition: JSON.parse(
        files.get('plugins/greet/definition.json')!,
      ) as Extracted['definition'],
      timeoutSeconds: config.Server.timeoutseconds,
      greetings: [...files]
        .filter(([name]) => name.endsWith('/env.txt'))
        .map(([, text]) => text.trim()),
    };
  }

  it('repeats the plugins, env and timeout of the tarball; flags given again win', async () => {
    const file = join(dir, 'greet.yaml');
    await writeFile(file, plugin);
    const first = await runAndOpen('first', [
      '-p',
      file,
      '--plugin-env',
      'greet.GREETING=from-flag',
      '--timeout',
      '7m',
    ]);
    expect(first.timeoutSeconds).toBe(420);
    expect(first.greetings.length).toBeGreaterThan(0);
    expect(new Set(first.greetings)).toEqual(new Set(['from-flag']));
    await rm(file); // the repeat needs nothing but the tarball

    const again = await runAndOpen('again', ['--from', first.tarball]);
    expect(again.definition.Definition).toEqual(first.definition.Definition);
    expect(again.timeoutSeconds).toBe(420);
    expect(new Set(again.greetings)).toEqual(new Set(['from-flag']));

    const changed = await runAndOpen('changed', [
      '--from',
      first.tarball,
      '--timeout',
      '9m',
      '--plugin-env',
      'greet.GREETING=changed',
    ]);
    expect(changed.timeoutSeconds).toBe(540);
    expect(new Set(changed.greetings)).toEqual(new Set(['changed']));
  }, 120_000);

  it('refuses --from with -p or --mode, a missing tarball, and one without definitions: one line, exit 2', async () => {
    const empty = join(dir, 'empty.tar.gz');
    await writeFile(join(dir, 'readme.txt'), 'no plugins here');
    await tar.c({ gzip: true, file: empty, cwd: dir }, ['readme.txt']);
    for (const [args, pattern] of [
      [['--from', empty, '-p', 'x.yaml'], /--from and -p/],
      [['--from', empty, '--mode', 'quick'], /--from and --mode/],
      [['--from', join(dir, 'nope.tar.gz')], /nope\.tar\.gz/],
      [['--from', empty], /holds no plugin definitions/],
    ] as const) {
      const r = await fathom(['run', '-n', 'bad', ...args], env());
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(pattern);
    }
  });
});
