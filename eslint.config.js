// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const domains = [
  'core',
  'plugin',
  'aggregation',
  'worker',
  'results',
  'status',
  'dispatch',
  'orchestration',
];
const k8sClient = {
  name: '@kubernetes/client-node',
  message: 'Only src/backends/kubernetes may talk to the Kubernetes client.',
};

/** The architecture's import arrows: cli -> backends -> domains -> core, never back. */
const arrows = (/** @type {string[]} */ forbidden, /** @type {string} */ why) => ({
  'no-restricted-imports': [
    'error',
    {
      paths: [k8sClient],
      patterns: [{ regex: `(^|/)(${forbidden.join('|')})/`, message: why }],
    },
  ],
});

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'coverage/', 'bin/', 'test/.cache/', 'bench/out/'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: {
        projectService: { allowDefaultProject: ['*.js', 'bench/*.js', '.ci/*.mjs'] },
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-restricted-syntax': [
        'error',
        { selector: 'TSEnumDeclaration', message: 'Use a string-literal union.' },
      ],
    },
  },
  {
    // Plain scripts run by node directly: no type information to lint against.
    files: ['**/*.js', '**/*.mjs'],
    ...tseslint.configs.disableTypeChecked,
  },
  {
    files: ['src/core/**/*.ts'],
    rules: arrows(
      [...domains.filter((d) => d !== 'core'), 'backends', 'cli', 'web'],
      'core depends on nothing else in fathom.',
    ),
  },
  {
    files: domains.filter((d) => d !== 'core').map((d) => `src/${d}/**/*.ts`),
    rules: arrows(
      ['backends', 'cli', 'web'],
      'Domain code never imports a backend, the CLI or the web UI.',
    ),
  },
  {
    files: ['src/backends/local/**/*.ts'],
    rules: arrows(['cli', 'web', 'kubernetes'], 'The local backend stands alone.'),
  },
  {
    files: ['src/backends/kubernetes/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '(^|/)(cli|web|local)/',
              message: 'Backends do not import the CLI or each other.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['src/cli/**/*.ts', 'src/web/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { paths: [k8sClient] }] },
  },
  {
    files: ['**/*.test.ts', 'test/**/*.ts', 'bench/**'],
    rules: {
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
    },
  },
);
