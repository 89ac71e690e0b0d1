import { ESLint } from 'eslint';
import tseslint from 'typescript-eslint';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../support/cli.js';

/** Lints a snippet as if it lived at `file`, with the project's own rules (minus type information); the arrow rule's messages. */
async function restrictedImports(file: string, source: string): Promise<string[]> {
  const eslint = new ESLint({
    cwd: repoRoot,
    overrideConfig: [
      { files: ['**/*.ts'], ...tseslint.configs.disableTypeChecked },
      {
        files: ['**/*.ts'],
        languageOptions: { parserOptions: { projectService: false, project: null } },
      },
    ],
  });
  const [result] = await eslint.lintText(source, { filePath: `${repoRoot}${file}` });
  return (result?.messages ?? []).filter((m) => m.ruleId === 'fathom/arrows').map((m) => m.message);
}

describe('the import arrows', () => {
  it.each([
    [
      'src/plugin/x.ts',
      "import { main } from '../cli/main.js';",
      /never imports a backend, the CLI/,
    ],
    [
      'src/results/x.ts',
      "import { LocalBackend } from '../backends/local/backend.js';",
      /never imports a backend/,
    ],
    [
      'src/core/x.ts',
      "import { compute } from '../status/compute.js';",
      /core depends on nothing else/,
    ],
    [
      'src/backends/local/x.ts',
      "import { main } from '../../cli/main.js';",
      /local backend stands alone/,
    ],
    [
      'src/cli/x.ts',
      "import { KubeConfig } from '@kubernetes/client-node';",
      /Only src\/backends\/kubernetes/,
    ],
    [
      'src/aggregation/x.ts',
      "import * as k8s from '@kubernetes/client-node';",
      /Only src\/backends\/kubernetes/,
    ],
    [
      'src/plugin/x.ts',
      "export async function f() { return import('../cli/main.js'); }",
      /never imports a backend, the CLI/,
    ],
    [
      'src/core/x.ts',
      'export const m = import(`../status/compute.js`);',
      /core depends on nothing/,
    ],
    [
      'src/cli/x.ts',
      "export const k = await import('@kubernetes/client-node');",
      /Only src\/backends\/kubernetes/,
    ],
    [
      'src/results/x.ts',
      "import { compute } from '../status/compute.js';",
      /Domain results may not import domain status/,
    ],
    [
      'src/checks/x.ts',
      "export * from '../sessions/queue.js';",
      /Domain checks may not import domain sessions/,
    ],
    [
      'src/results/x.ts',
      "export { main } from '../cli/main.js';",
      /never imports a backend, the CLI/,
    ],
    [
      'src/web/x.ts',
      "import { LocalBackend } from '../backends/local/backend.js';",
      /web UI reads domains only/,
    ],
    [
      'src/backends/kubernetes/x.ts',
      "import { LocalBackend } from '../local/backend.js';",
      /Backends do not import the CLI or each other/,
    ],
  ])('forbid %s: %s', async (file, source, message) => {
    const messages = await restrictedImports(file, source);
    expect(messages).toHaveLength(1);
    expect(messages[0]).toMatch(message);
  });

  it.each([
    ['src/cli/x.ts', "import { LocalBackend } from '../backends/local/backend.js';"],
    ['src/aggregation/x.ts', "import { parsePluginDocuments } from '../plugin/loader.js';"],
    ['src/backends/kubernetes/x.ts', "import { KubeConfig } from '@kubernetes/client-node';"],
    ['src/cli/x.ts', "export const m = await import('../backends/kubernetes/backend.js');"],
    ['src/web/x.ts', "import { openResults } from '../results/tarball.js';"],
    ['src/checks/x.ts', "import { systemClock } from '../core/clock.js';"],
    ['src/backends/local/x.ts', "import type { Backend } from '../backend.js';"],
    ['src/status/x.test.ts', "import { parsePluginDocuments } from '../plugin/loader.js';"],
    ['src/results/x.test.ts', "import { compute } from '../status/compute.js';"],
  ])('allow %s: %s', async (file, source) => {
    expect(await restrictedImports(file, source)).toEqual([]);
  });
});
