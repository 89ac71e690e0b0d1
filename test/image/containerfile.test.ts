/**
 * The Containerfile, checked without an engine: the current Node LTS by tag (no digest), the
 * package installed from the tarball `npm pack` makes (dev dependencies left out, the native
 * addon built in a builder stage), a non-root user that is the uid fathom's manifests run as,
 * `fathom` on the PATH as the entrypoint, OCI labels that agree with package.json. And the
 * tarball holds what the image needs and no tests: unpacked beside the installed dependencies,
 * its `fathom` runs.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { POD_SECURITY } from '../../src/backends/kubernetes/pod-security.js';
import { repoRoot } from '../support/cli.js';
import { parseContainerfile, parseLabels, type Stage } from './containerfile.js';

const exec = promisify(execFile);
/** The Node release line the image ships: the LTS CI also runs the suite on. */
const NODE_LTS = 24;

const pkg = JSON.parse(await readFile(join(repoRoot, 'package.json'), 'utf8')) as {
  name: string;
  version: string;
  license: string;
  bin: { fathom: string } & Record<string, string>;
};
const stages = parseContainerfile(await readFile(join(repoRoot, 'Containerfile'), 'utf8'));
const final = stages.at(-1)!;
const args = (s: Stage, keyword: string) =>
  s.instructions.filter((i) => i.keyword === keyword).map((i) => i.args);

describe('Containerfile', () => {
  it(`builds on the official Node ${NODE_LTS} images by tag, one Debian release for both stages`, () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    const tags = stages.map((s) =>
      /^docker\.io\/library\/node:(\d+)-([a-z]+)(-slim)?$/.exec(s.from),
    );
    for (const [i, t] of tags.entries()) {
      expect(t, stages[i]!.from).not.toBeNull();
      expect(Number(t![1])).toBe(NODE_LTS);
    }
    expect(new Set(tags.map((t) => t![2])).size).toBe(1);
    expect(final.from).toMatch(/-slim$/);
    for (const s of stages) expect(s.from).not.toContain('@sha256:');
  });

  it('installs the packed tarball without dev dependencies in the builder, and copies it over', () => {
    const build = stages.find(
      (s) => s.name && final.instructions.some((i) => i.args.includes(`--from=${s.name} `)),
    )!;
    expect(build, 'a builder stage the final stage copies from').toBeDefined();
    expect(args(build, 'COPY')).toContain('fathom-*.tgz ./');
    const install = args(build, 'RUN').join(' ');
    expect(install).toMatch(/npm install -g \.\/fathom-\*\.tgz\b[^&]*--omit=dev/);
    expect(args(final, 'COPY')).toContain(
      `--from=${build.name} /usr/local/lib/node_modules/fathom /usr/local/lib/node_modules/fathom`,
    );
    // The final stage runs no npm: nothing is compiled or fetched there.
    expect(args(final, 'RUN').join(' ')).not.toMatch(/\bnpm\b/);
  });

  it('runs as the non-root uid of the manifests, with fathom on the PATH as the entrypoint', () => {
    const users = args(final, 'USER');
    expect(users).toHaveLength(1);
    const [uid, gid] = users[0]!.split(':');
    expect(uid).not.toMatch(/^(0|root)$/);
    expect(Number(uid)).toBe(POD_SECURITY.runAsUser);
    expect(Number(gid)).toBe(POD_SECURITY.runAsGroup);
    // USER comes after every RUN, so nothing after it runs as root.
    const keywords = final.instructions.map((i) => i.keyword);
    expect(keywords.lastIndexOf('RUN')).toBeLessThan(keywords.indexOf('USER'));
    expect(args(final, 'RUN').join(' ')).toContain(
      `ln -s ../lib/node_modules/fathom/${pkg.bin.fathom} /usr/local/bin/fathom`,
    );
    expect(args(final, 'ENTRYPOINT').map((a) => JSON.parse(a) as unknown)).toEqual([['fathom']]);
  });

  it('carries OCI labels that agree with package.json', () => {
    const labels = Object.assign({}, ...args(final, 'LABEL').map(parseLabels)) as Record<
      string,
      string
    >;
    expect(labels['org.opencontainers.image.title']).toBe(pkg.name);
    expect(labels['org.opencontainers.image.licenses']).toBe(pkg.license);
    expect(labels['org.opencontainers.image.version']).toBe('${VERSION}');
    expect(args(final, 'ARG')).toContain(`VERSION=${pkg.version}`);
  });
});

describe('the npm tarball the image installs', () => {
  let dir: string;
  let files: string[];
  let filename: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'fathom-pack-'));
    // --ignore-scripts: pack what is built (npm test builds first) instead of building again.
    const { stdout } = await exec(
      'npm',
      ['pack', '--json', '--ignore-scripts', '--pack-destination', dir],
      { cwd: repoRoot, maxBuffer: 64 << 20 },
    );
    const [packed] = JSON.parse(stdout) as { filename: string; files: { path: string }[] }[];
    files = packed!.files.map((f) => f.path);
    filename = packed!.filename;
  });
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('holds package.json, bin/, the built dist/ and the example plugins, and no tests', () => {
    expect(filename).toBe(`fathom-${pkg.version}.tgz`);
    expect(files, 'dist/ is not built: npm run build').toContain('dist/cli/main.js');
    expect(files).toEqual(
      expect.arrayContaining(['package.json', 'bin/fathom.js', 'plugins/smoke-junit.yaml']),
    );
    const top = new Set(files.map((f) => f.split('/')[0]));
    expect([...top].sort()).toEqual(['README.md', 'bin', 'dist', 'package.json', 'plugins']);
    expect(files.filter((f) => /\.test\.|(^|\/)test-helpers\./.test(f))).toEqual([]);
  });

  it('runs from the unpacked tarball beside the installed dependencies', async () => {
    await exec('tar', ['-xzf', join(dir, filename), '-C', dir]);
    await symlink(join(repoRoot, 'node_modules'), join(dir, 'package', 'node_modules'));
    const bin = join(dir, 'package', pkg.bin.fathom);
    const version = await exec(process.execPath, [bin, '--version']);
    expect(version.stdout.trim()).toContain(pkg.version);
    const gen = await exec(process.execPath, [bin, 'gen', 'sessions']);
    expect(gen.stdout).toContain('kind: CustomResourceDefinition');
  });
});
