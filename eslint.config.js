// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import fathom from './eslint/arrows.js';

/**
 * Imports between domains that the architecture allows (everything else sideways is an error):
 * a run is made of plugins; the worker writes the exit-code file that the results reader turns
 * into a verdict; a check may be an object's kstatus or a plugin whose results are read; the
 * results reader finds the cluster snapshot's files where the snapshot put them.
 */
const sideways = {
  aggregation: ['plugin'],
  worker: ['results'],
  results: ['snapshot'],
  checks: ['status', 'plugin', 'results'],
};

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
    // cli → backends → domains → core, static and dynamic imports alike (eslint/arrows.js).
    files: ['src/**/*.ts'],
    plugins: { fathom },
    rules: { 'fathom/arrows': ['error', { srcRoot: 'src', sideways }] },
  },
  {
    // A domain's tests may drive it with another domain's real parts (a worker's mTLS client).
    files: ['src/**/*.test.ts', 'src/**/test-helpers.ts'],
    rules: { 'fathom/arrows': ['error', { srcRoot: 'src', sideways: '*' }] },
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
