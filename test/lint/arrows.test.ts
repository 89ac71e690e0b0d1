import { ESLint } from 'eslint';
import tseslint from 'typescript-eslint';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../support/cli.js';

/** Lints a snippet as if it lived at `file`, with the project's own rules (minus type information). */
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
  return (result?.messages ?? [])
    .filter((m) => m.ruleId === 'no-restricted-imports')
    .map((m) => m.message);
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
  ])('forbid %s: %s', async (file, source, message) => {
    const messages = await restrictedImports(file, source);
    expect(messages).toHaveLength(1);
    expect(messages[0]).toMatch(message);
  });

  it.each([
    ['src/cli/x.ts', "import { LocalBackend } from '../backends/local/backend.js';"],
    ['src/aggregation/x.ts', "import { parsePluginDocuments } from '../plugin/loader.js';"],
    ['src/backends/kubernetes/x.ts', "import { KubeConfig } from '@kubernetes/client-node';"],
  ])('allow %s: %s', async (file, source) => {
    expect(await restrictedImports(file, source)).toEqual([]);
  });
});
