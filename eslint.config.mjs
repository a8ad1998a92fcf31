// Lint: the few rules that catch real bugs, and the import directions of STYLE.md.
import tseslint from 'typescript-eslint';

const nodeBuiltins = ['node:*', 'fs', 'path', 'os', 'http', 'https', 'net', 'crypto', 'child_process', 'stream', 'buffer', 'process'];

export default tseslint.config(
  { ignores: ['node_modules/**', '.tools/**', '.data/**', 'bench/results/**', '**/*.mjs'] },
  {
    files: ['**/*.ts'],
    extends: [tseslint.configs.base],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': [
        'error',
        // node:test tracks the promises test()/describe() return.
        { allowForKnownSafeCalls: [{ from: 'package', package: 'node:test', name: ['test', 'describe', 'it', 'suite'] }] },
      ],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-explicit-any': 'error',
    },
  },
  {
    // Sandbox code: deterministic, no I/O; activities as types only.
    files: ['workflows/**/*.ts', 'common/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: nodeBuiltins, message: 'workflow sandbox code cannot use Node built-ins' },
            { group: ['@temporalio/activity', '@temporalio/client', '@temporalio/worker', '@temporalio/testing'], message: 'not allowed in the workflow sandbox' },
            { group: ['openai', '@anthropic-ai/sdk', 'express'], message: 'no I/O libraries in sandbox code' },
            { group: ['../activities/*', '../activities/**', '../worker/*', '../api/*'], allowTypeImports: true, message: 'import activities as types only' },
          ],
        },
      ],
    },
  },
  {
    // common/ imports nothing of ours.
    files: ['common/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: nodeBuiltins, message: 'common/ is imported by the workflow sandbox: no Node built-ins' },
            { group: ['@temporalio/activity', '@temporalio/client', '@temporalio/worker', '@temporalio/testing'], message: 'not allowed in the workflow sandbox' },
            { group: ['openai', '@anthropic-ai/sdk', 'express'], message: 'no I/O libraries in common/' },
            { group: ['../*'], message: 'common/ imports nothing of ours' },
          ],
        },
      ],
    },
  },
  {
    // Only provider folders talk to vendor SDKs. (The batch CLI is a client of the gateway's own
    // API and uses the official client, as users do.)
    files: ['**/*.ts'],
    ignores: ['activities/providers/**', 'mock/**', 'test/**', 'bench/**', 'workflows/**', 'common/**', 'cli/batch-commands.ts'],
    rules: {
      'no-restricted-imports': ['error', { paths: [{ name: 'openai', message: 'only activities/providers/<vendor>/ imports openai' }, { name: '@anthropic-ai/sdk', message: 'only activities/providers/<vendor>/ imports @anthropic-ai/sdk' }] }],
    },
  },
);
