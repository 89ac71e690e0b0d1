import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FathomError } from '../core/errors.js';
import { collectAtMost } from '../core/bounded.js';
import { pluginLimits } from './limits.js';
import { loadPluginPaths, parsePluginDocuments } from './loader.js';

const builtinDir = fileURLToPath(new URL('../../plugins', import.meta.url));

/** A minimal valid definition; `extra` is appended at the top level. */
const plugin = (name: string, extra = '', spec = "  command: [sh, -c, 'true']\n"): string =>
  `sonobuoy-config:\n  driver: Job\n  plugin-name: ${name}\n  result-format: raw\nspec:\n${spec}${extra}`;

function refusal(f: () => unknown): FathomError {
  let err: unknown;
  try {
    f();
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(FathomError);
  return err as FathomError;
}

async function refusalOf(p: Promise<unknown>): Promise<FathomError> {
  const err: unknown = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(FathomError);
  return err as FathomError;
}

/** Expects FATHOM_PLUGIN_TOO_LARGE, one line, naming `file` and `limit`. */
function expectTooLarge(err: FathomError, file: string, limit: string): void {
  expect(err.code).toBe('FATHOM_PLUGIN_TOO_LARGE');
  expect(err.message).not.toContain('\n');
  expect(err.message).toContain(file);
  expect(err.message).toContain(limit);
}

const parse = (text: string) => parsePluginDocuments(text, 'big.yaml');

describe('plugin file limits, checked before parsing', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'fathom-limits-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));
  const load = (refs: string[]) => loadPluginPaths(refs, { builtinDir, cwd: dir });

  /** A valid plugin file padded with a comment to exactly `bytes`. */
  const padded = (bytes: number): string => {
    const head = `${plugin('padded')}#`;
    return `${head}${'x'.repeat(bytes - head.length - 1)}\n`;
  };

  it('reads a file of exactly 2 MiB and refuses one byte more, by its size', async () => {
    await writeFile(path.join(dir, 'max.yaml'), padded(pluginLimits.fileBytes));
    await writeFile(path.join(dir, 'big.yaml'), padded(pluginLimits.fileBytes + 1));
    expect((await load(['max.yaml'])).plugins.map((p) => p.name)).toEqual(['padded']);
    expectTooLarge(await refusalOf(load(['big.yaml'])), 'big.yaml', '2 MiB');
  });

  it('stops reading an endless file (/dev/zero) at the limit', async () => {
    expectTooLarge(await refusalOf(load(['/dev/zero'])), '/dev/zero', '2 MiB');
  });

  it('refuses stdin text over the limit', () => {
    const text = padded(pluginLimits.fileBytes + 1);
    const err = refusal(() => parsePluginDocuments(text, '-'));
    expectTooLarge(err, '-: the file is 2097153 bytes', '2 MiB');
  });

  it('gives up on a stream at limit + 1 bytes and closes it', async () => {
    let closed = false;
    function* endless(): Generator<Buffer> {
      try {
        for (;;) yield Buffer.alloc(1000);
      } finally {
        closed = true;
      }
    }
    expect(await collectAtMost(endless(), 4500)).toBeUndefined();
    expect(closed).toBe(true);
    expect((await collectAtMost(['ab', 'cd'], 4))?.toString()).toBe('abcd');
  });

  it('counts documents: 100 pass, 101 are refused even when empty', () => {
    const docs = (n: number) => plugin('one') + '---\n'.repeat(n - 1);
    expect(parse(docs(100)).plugins).toHaveLength(1);
    expectTooLarge(
      refusal(() => parse(docs(101))),
      'big.yaml',
      '100 YAML documents',
    );
    // `...` ends a document; content after it starts the next one without `---`.
    const ended = (n: number) => `${plugin('one')}...\n${'x\n...\n'.repeat(n - 1)}`;
    expect(refusal(() => parse(ended(100))).code).toBe('FATHOM_PLUGIN_INVALID');
    expectTooLarge(
      refusal(() => parse(ended(101))),
      'big.yaml',
      '100',
    );
  });

  it('counts YAML nodes before building them: 10,000 per file', () => {
    // Each `- x` item is two nodes by this count (the item and its value).
    const list = (items: number) => plugin('one', `extra:\n${'- x\n'.repeat(items)}`);
    expect(parse(list(4900)).plugins).toHaveLength(1);
    expectTooLarge(
      refusal(() => parse(list(5000))),
      'big.yaml',
      '10000 YAML nodes',
    );
  });

  it('refuses a directory of more than 100 plugin files before reading them', async () => {
    const many = path.join(dir, 'many');
    await mkdir(many);
    await Promise.all(
      Array.from({ length: 101 }, (_, i) => writeFile(path.join(many, `p${i}.yaml`), '')),
    );
    expectTooLarge(await refusalOf(load(['many'])), '--plugin many', 'limit of 100');
  });

  it("bounds a run's plugin files together at 16 MiB", async () => {
    const size = pluginLimits.fileBytes - 100;
    await writeFile(path.join(dir, 'near.yaml'), padded(size));
    const refs = (n: number) => Array.from({ length: n }, (_, i) => `near.yaml@p${i}`);
    const fit = Math.floor(pluginLimits.runFileBytes / size);
    expect((await load(refs(fit))).plugins).toHaveLength(fit);
    expectTooLarge(await refusalOf(load(refs(fit + 1))), 'near.yaml', '16 MiB');
  });
});

describe('plugin field limits', () => {
  const cfgLine = (text: string) =>
    plugin('one').replace('  driver: Job\n', `  driver: Job\n${text}`);

  it('description: 64 KiB', () => {
    const desc = (n: number) => cfgLine(`  description: ${'d'.repeat(n)}\n`);
    expect(parse(desc(64 * 1024)).plugins[0]!.description).toHaveLength(65536);
    const err = refusal(() => parse(desc(64 * 1024 + 1)));
    expectTooLarge(err, 'big.yaml:3:16: sonobuoy-config.description is 65537 bytes', '64 KiB');
  });

  it('command and args together: 256 KiB, counted as exec counts them', () => {
    const spec = (n: number) => `  command: [sh]\n  args: [${'a'.repeat(n)}]\n`;
    // "sh\0" is 3 bytes, the argument and its NUL the rest.
    expect(parse(plugin('one', '', spec(256 * 1024 - 4))).plugins).toHaveLength(1);
    const err = refusal(() => parse(plugin('one', '', spec(256 * 1024 - 3))));
    expectTooLarge(err, 'big.yaml:7:9: spec.args with command is 262145 bytes', '256 KiB');
  });

  it('env names and values: 256 KiB per container', () => {
    const env = (n: number) => `  env:\n  - name: A\n    value: ${'v'.repeat(n)}\n`;
    // "A=" and a NUL: 3 bytes.
    expect(parse(plugin('one', '', env(256 * 1024 - 3))).plugins).toHaveLength(1);
    const err = refusal(() => parse(plugin('one', '', env(256 * 1024 - 2))));
    expectTooLarge(err, 'big.yaml:7:5: spec.env[0] brings the list to 262145 bytes', '256 KiB');
  });

  it('config-map keys and contents together: 1 MiB', () => {
    const cm = (n: number) => `config-map:\n  a.txt: ${'c'.repeat(n)}\n`;
    // The key "a.txt" is 5 bytes.
    expect(parse(plugin('one', cm(1024 * 1024 - 5))).plugins[0]!.configMap['a.txt']).toBeDefined();
    const err = refusal(() => parse(plugin('one', cm(1024 * 1024 - 4))));
    expectTooLarge(err, 'config-map["a.txt"] brings the config-map to 1048577 bytes', '1 MiB');
  });

  it('a config-map entry parsed as YAML: 100,000 nodes, counted before parsing', () => {
    // Each `- x` item is two nodes by this count.
    const cm = (items: number) => `config-map:\n  a.yaml: |\n${'    - x\n'.repeat(items)}`;
    expect(parse(plugin('one', cm(50_000))).plugins).toHaveLength(1);
    const err = refusal(() => parse(plugin('one', cm(50_001))));
    expectTooLarge(err, 'big.yaml:8:11: config-map["a.yaml"] holds more than', '100000 YAML nodes');
  });

  it('podSpec: 256 KiB as JSON', () => {
    const pod = (n: number) => `podSpec:\n  hostname: ${'h'.repeat(n)}\n`;
    // {\n  "hostname": "…"\n}: 20 bytes around the value.
    expect(parse(plugin('one', pod(256 * 1024 - 20))).plugins).toHaveLength(1);
    const err = refusal(() => parse(plugin('one', pod(256 * 1024))));
    expectTooLarge(err, 'big.yaml:8:3: podSpec as JSON is over', '256 KiB');
  });

  it('a definition expanded by aliases: 2 MiB as JSON', () => {
    const chunk = 'z'.repeat(100 * 1024);
    const aliases = (n: number) =>
      `anchor: &big ${chunk}\ncopies: [${Array.from({ length: n }, () => '*big').join(', ')}]\n`;
    expect(parse(plugin('one', aliases(10))).plugins).toHaveLength(1);
    const err = refusal(() => parse(plugin('one', aliases(30))));
    expectTooLarge(err, 'big.yaml:1:1: the definition as JSON, aliases expanded, is over', '2 MiB');
  });

  it('nesting: 64 levels', () => {
    const nest = (n: number) => `deep: ${'['.repeat(n)}${']'.repeat(n)}\n`;
    // The document itself is the first level, `deep` the second.
    expect(parse(plugin('one', nest(63))).plugins).toHaveLength(1);
    const err = refusal(() => parse(plugin('one', nest(64))));
    expectTooLarge(err, 'big.yaml:1:1: nests mappings and lists deeper than', '64 levels');
  });

  it("bounds a run's definitions together at 16 MiB as stored", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'fathom-limits-run-'));
    try {
      // 1 MiB of config-map is stored twice (as config-map and in the manifest).
      const cm = `config-map:\n  a.txt: ${'c'.repeat(1024 * 1024 - 100)}\n`;
      await writeFile(path.join(dir, 'cm.yaml'), plugin('cm', cm));
      const refs = (n: number) => Array.from({ length: n }, (_, i) => `cm.yaml@p${i}`);
      const opts = { builtinDir, cwd: dir };
      expect((await loadPluginPaths(refs(7), opts)).plugins).toHaveLength(7);
      const err = await refusalOf(loadPluginPaths(refs(8), opts));
      expectTooLarge(err, 'cm.yaml: plugin "p7" brings', '16 MiB');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
