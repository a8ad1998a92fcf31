// Lint: the few rules that catch real bugs, and the import directions of
// docs/architecture.md: each folder imports only from the folders below it.
import importX, { createNodeResolver } from 'eslint-plugin-import-x';
import tseslint from 'typescript-eslint';

const nodeBuiltins = ['node:*', 'fs', 'path', 'os', 'http', 'https', 'net', 'crypto', 'child_process', 'stream', 'buffer', 'process'];


/**
 * The folders in import order, top to bottom, and what each may import
 * besides itself. Checked on resolved paths, so no relative path slips past.
 */
const FOLDERS = ['api', 'cli', 'worker', 'client', 'activities', 'dialects', 'services', 'activities/providers', 'runtime', 'workflows', 'common'];
const MAY_IMPORT = {
  api: ['client', 'dialects', 'services', 'activities/providers', 'runtime', 'workflows', 'common'],
  cli: ['client', 'dialects', 'services', 'runtime', 'workflows', 'common'],
  worker: ['client', 'activities', 'dialects', 'services', 'activities/providers', 'runtime', 'workflows', 'common'],
  client: ['dialects', 'services', 'activities/providers', 'runtime', 'workflows', 'common'],
  activities: ['dialects', 'services', 'activities/providers', 'runtime', 'workflows', 'common'],
  dialects: ['services', 'activities/providers', 'runtime', 'common'],
  services: ['activities/providers', 'runtime', 'workflows', 'common'],
  'activities/providers': ['common'],
  runtime: ['common'],
  // Workflows import activities as types only (the rule below): proxyActivities needs their signatures.
  workflows: ['activities', 'common'],
  common: [],
  'local-model': ['dialects', 'runtime', 'common'],
  mock: [],
};
/** Where a folder's own files are: activities/ without its providers, which are a layer of their own. */
const zoneOf = (folder) => (folder === 'activities' ? { target: './activities', except: ['./providers'] } : { target: `./${folder}` });
const restrictedPaths = Object.entries(MAY_IMPORT).flatMap(([folder, allowed]) =>
  [...FOLDERS, 'local-model', 'mock']
    .filter((other) => other !== folder && !allowed.includes(other))
    // activities/ may import its providers; activities/providers/ may not import the rest of activities/.
    .filter((other) => !(folder === 'activities' && other === 'activities/providers'))
    .map((other) => {
      const from = zoneOf(other);
      const target = folder === 'activities' ? './activities/!(providers)/**' : `./${folder}/**`;
      return {
        target: folder === 'activities' ? ['./activities/*.ts', target] : target,
        from: from.target,
        ...(from.except ? { except: from.except } : {}),
        message: `${folder}/ imports ${allowed.length ? `only from ${allowed.map((name) => `${name}/`).join(', ')}` : 'nothing of ours'} (docs/architecture.md)`,
      };
    }),
);

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
    // Import directions on resolved paths, and no cycles (type-only imports aside).
    files: ['**/*.ts'],
    ignores: ['test/**', 'bench/**', 'scripts/**'],
    plugins: { 'import-x': importX },
    settings: {
      'import-x/resolver-next': [createNodeResolver({ extensions: ['.ts', '.js', '.json'] })],
      // Without these no-cycle cannot read a TypeScript dependency, and finds no cycle at all.
      'import-x/extensions': ['.ts'],
      'import-x/parsers': { '@typescript-eslint/parser': ['.ts'] },
    },
    rules: {
      'import-x/no-restricted-paths': ['error', { zones: restrictedPaths }],
      'import-x/no-cycle': ['error', { ignoreExternal: true }],
    },
  },
  {
    // Only provider folders talk to vendor SDKs (the batch CLI is a client of the gateway's own API and
    // uses the official client, as users do). The SDK's internals change without notice; tests may use
    // them as the oracle of what the SDK writes.
    files: ['**/*.ts'],
    ignores: ['test/**', 'workflows/**', 'common/**', 'activities/providers/**', 'mock/**', 'bench/**', 'cli/batch-commands.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [
            { name: 'openai', message: 'only activities/providers/<vendor>/ imports openai' },
            { name: '@anthropic-ai/sdk', message: 'only activities/providers/<vendor>/ imports @anthropic-ai/sdk' },
          ],
          patterns: [{ regex: '^@temporalio/[^/]+/lib/internal', message: "the SDK's internal modules are not its API" }],
        },
      ],
    },
  },
  {
    // The API process's entry point composes it: it also starts the API's own streaming worker.
    files: ['api/main.ts'],
    rules: {
      'import-x/no-restricted-paths': ['error', { zones: restrictedPaths.filter((zone) => !(zone.target === './api/**' && zone.from === './worker')) }],
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
            { regex: '^@temporalio/[^/]+/lib/internal', message: "the SDK's internal modules are not its API" },
            // However deep the relative path: the folders are checked on resolved paths above, this is the type-only part.
            { regex: '(^|/)activities(/|$)', allowTypeImports: true, message: 'workflows import activities as types only' },
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
          ],
        },
      ],
    },
  },
);
