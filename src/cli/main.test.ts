/**
 * Start-up cost is what a command imports before it runs: every command's work is loaded by its
 * action, so `fathom --version` loads the command tree only, and `fathom results` (report mode)
 * does not load the yaml package. Checked on the static import graph of the sources,
 * so a new top-level import of something heavy fails here, not in a benchmark.
 */
import { readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const src = new URL('../', import.meta.url).pathname;

/** Modules a source file imports at load time (type-only imports and `import()` left out). */
function staticImports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const out: string[] = [];
  const statement =
    /^(import|export)\s+(type\s+)?([^'";]*?)\s*from\s+'([^']+)'|^import\s+'([^']+)'/gm;
  for (const m of text.matchAll(statement)) {
    if (m[5]) {
      out.push(m[5]);
      continue;
    }
    if (m[2]) continue; // import type / export type
    const names = m[3]!
      .replace(/[{}]/g, '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    if (names.length > 0 && names.every((n) => n.startsWith('type '))) continue;
    out.push(m[4]!);
  }
  return out;
}

/** Every module reachable from `entry` (relative to src/) by static imports: files and packages. */
function closure(entry: string): { files: Set<string>; packages: Set<string> } {
  const files = new Set<string>();
  const packages = new Set<string>();
  const visit = (file: string): void => {
    const rel = relative(src, file);
    if (files.has(rel)) return;
    files.add(rel);
    for (const spec of staticImports(file)) {
      if (spec.startsWith('node:')) continue;
      if (spec.startsWith('.')) visit(join(dirname(file), spec.replace(/\.js$/, '.ts')));
      else
        packages.add(
          spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!,
        );
    }
  };
  visit(join(src, entry));
  return { files, packages };
}

describe('what loads at start-up', () => {
  it('the command tree needs commander alone', () => {
    const { files, packages } = closure('cli/main.ts');
    expect([...packages]).toEqual(['commander']);
    const heavy = [...files].filter((f) =>
      /^(results|plugin|status|web|backends|worker|aggregation)\//.test(f),
    );
    expect(heavy).toEqual([]);
  });

  it('the launcher loads node builtins alone, so the compile cache is on before the rest loads', () => {
    const { files, packages } = closure('cli/launch.ts');
    expect([...packages]).toEqual([]);
    expect([...files]).toEqual(['cli/launch.ts']);
  });

  it('`fathom results` reads a tarball with the tar package but without the yaml package', () => {
    const { files, packages } = closure('cli/commands/results-show.ts');
    // tar's parser replaced the hand-written one (bench: parsers); YAML stays the fast reader.
    expect([...packages].sort()).toEqual(['tar']);
    for (const f of [
      'results/manual.ts',
      'results/process.ts',
      'results/tarball.ts',
      'web/report/html.ts',
    ]) {
      expect(files.has(f), f).toBe(false);
    }
    expect(files.has('results/yamlfast.ts')).toBe(true);
    expect(files.has('results/archive.ts')).toBe(true);
  });
});
