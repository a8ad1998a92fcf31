import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ConfigError, loadConfigFile, parseConfig } from '../../runtime/load-config';

const valid = {
  providers: { openai: { type: 'openai', baseUrl: 'https://api.openai.com/v1', apiKeyEnv: 'OPENAI_API_KEY' } },
  models: { 'gpt-4o-mini': { provider: 'openai' } },
  routes: { default: ['gpt-4o-mini'] },
  defaultRoute: 'default',
  tenants: { t: { keySha256: ['a'.repeat(64)] } },
};

function writeTemp(name: string, text: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'switchyard-config-')), name);
  writeFileSync(file, text);
  return file;
}

test('the shipped configs are valid', () => {
  for (const file of ['config/mock.yaml', 'config/gateway.yaml']) {
    const loaded = loadConfigFile(file, {});
    assert.match(loaded.version, /^sha256:[0-9a-f]{16}$/);
    assert.ok(Object.isFrozen(loaded.config.providers));
  }
});

test('defaults fill retry and timeout settings', () => {
  const { config } = parseConfig(valid);
  assert.equal(config.providers.openai?.retry.maximumAttempts, 3);
  assert.equal(config.providers.openai?.timeouts.requestMs, 30_000);
  assert.deepEqual(config.models['gpt-4o-mini']?.fallbacks, []);
});

test('routing policy has defaults: every capability, three sensitivity classes, three criticality tiers', () => {
  const { config } = parseConfig(valid);
  assert.deepEqual(config.sensitivity.classes, ['public', 'internal', 'confidential']);
  assert.equal(config.sensitivity.default, 'internal');
  assert.deepEqual(Object.keys(config.criticality.tiers), ['low', 'normal', 'high']);
  assert.equal(config.models['gpt-4o-mini']?.capabilities, undefined);
  assert.equal(config.models['gpt-4o-mini']?.selfHosted, false);
});

test('the version changes with the content and not with key order', () => {
  const reordered = { tenants: valid.tenants, defaultRoute: 'default', routes: valid.routes, models: valid.models, providers: valid.providers };
  assert.equal(parseConfig(valid).version, parseConfig(reordered).version);
  assert.notEqual(parseConfig(valid).version, parseConfig({ ...valid, fallback: { message: 'other' } }).version);
});

test('errors name the bad field', () => {
  const cases: [unknown, RegExp][] = [
    [{ ...valid, models: { x: { provider: 'nope' } }, routes: { default: ['x'] } }, /models\.x\.provider: unknown provider "nope"/],
    [{ ...valid, routes: { default: ['ghost'] } }, /routes\.default\.0: unknown model "ghost"/],
    [{ ...valid, defaultRoute: 'elsewhere' }, /defaultRoute: unknown route/],
    [{ ...valid, providers: { openai: { ...valid.providers.openai, apiKeyEnv: 'sk-real-key' } } }, /providers\.openai\.apiKeyEnv/],
    [{ ...valid, providers: { openai: { ...valid.providers.openai, baseUrl: 'not a url' } } }, /providers\.openai\.baseUrl/],
    [{ ...valid, providers: { openai: { ...valid.providers.openai, typo: 1 } } }, /providers\.openai.*typo/],
    [{ ...valid, providers: { openai: { ...valid.providers.openai, type: 'gemini' } } }, /providers\.openai\.type/],
    [{ ...valid, taskClasses: { chat: { models: ['ghost'] } } }, /taskClasses\.chat\.models\.0: unknown model "ghost"/],
    [{ ...valid, defaultTaskClass: 'chat' }, /defaultTaskClass: unknown task class "chat"/],
    [{ ...valid, models: { 'gpt-4o-mini': { provider: 'openai', approvedFor: ['secret'] } } }, /models\.gpt-4o-mini\.approvedFor\.0: unknown sensitivity class "secret"/],
    [{ ...valid, models: { 'gpt-4o-mini': { provider: 'openai', capabilities: ['telepathy'] } } }, /models\.gpt-4o-mini\.capabilities/],
    [{ ...valid, models: { 'gpt-4o-mini': { provider: 'openai', quality: { code: 2 } } } }, /models\.gpt-4o-mini\.quality\.code/],
    [{ ...valid, tenants: { t: { keySha256: ['a'.repeat(64)], defaults: { criticality: 'urgent' } } } }, /tenants\.t\.defaults\.criticality: unknown criticality tier "urgent"/],
    [{ ...valid, sensitivity: { classes: ['open'], default: 'closed' } }, /sensitivity\.default: unknown sensitivity class "closed"/],
  ];
  for (const [raw, message] of cases) {
    assert.throws(() => parseConfig(raw), (error: unknown) => error instanceof ConfigError && message.test(error.message));
  }
});

test('${VAR} and ${VAR:-default} expand from the environment, and a missing variable is named', () => {
  const yaml = `providers:\n  local:\n    type: openai-compatible\n    baseUrl: \${LOCAL_URL:-http://127.0.0.1:11434/v1}\nmodels:\n  m: { provider: local, upstreamModel: "\${MODEL_NAME}" }\nroutes: { default: [m] }\ndefaultRoute: default\ntenants: { t: { keySha256: ["${'b'.repeat(64)}"] } }\n`;
  const file = writeTemp('c.yaml', yaml);
  const loaded = loadConfigFile(file, { MODEL_NAME: 'llama3' });
  assert.equal(loaded.config.providers.local?.baseUrl, 'http://127.0.0.1:11434/v1');
  assert.equal(loaded.config.models.m?.upstreamModel, 'llama3');
  assert.throws(() => loadConfigFile(file, {}), /MODEL_NAME is not set/);
});

test('a variable is expanded inside its string: a value with #, ": " or a new line cannot change the config around it', () => {
  const yaml = `providers:\n  local:\n    type: openai-compatible\n    baseUrl: http://127.0.0.1:11434/v1\nmodels:\n  m: { provider: local, upstreamModel: "\${MODEL_NAME}" }\nroutes: { default: [m] }\ndefaultRoute: default\ntenants: { t: { keySha256: ["${'b'.repeat(64)}"] } }\n`;
  const file = writeTemp('injected.yaml', yaml);
  const hostile = 'llama3 # not a comment\n  extra: { provider: local }\nkey: value';
  const loaded = loadConfigFile(file, { MODEL_NAME: hostile });
  assert.equal(loaded.config.models.m?.upstreamModel, hostile);
  assert.deepEqual(Object.keys(loaded.config.models), ['m'], 'no model was added by the value');
});
