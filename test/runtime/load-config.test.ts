import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
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

/** What config/gateway.yaml requires from the environment: no key of its own. */
const PRODUCTION_KEYS = { SWITCHYARD_TENANT_KEY_SHA256: 'c'.repeat(64), SWITCHYARD_ADMIN_KEY_SHA256: 'd'.repeat(64) };

test('the shipped configs are valid', () => {
  for (const [file, env] of [['config/mock.yaml', {}], ['config/gateway.yaml', PRODUCTION_KEYS]] as const) {
    const loaded = loadConfigFile(file, env);
    assert.match(loaded.version, /^sha256:[0-9a-f]{16}$/);
    assert.ok(Object.isFrozen(loaded.config.providers));
  }
});

test('config/gateway.yaml takes its tenant and admin key hashes from the environment and refuses to start without either', () => {
  const { config } = loadConfigFile('config/gateway.yaml', PRODUCTION_KEYS);
  assert.deepEqual(Object.values(config.tenants).flatMap((tenant) => tenant.keySha256), [PRODUCTION_KEYS.SWITCHYARD_TENANT_KEY_SHA256]);
  assert.deepEqual(config.admin?.keySha256, [PRODUCTION_KEYS.SWITCHYARD_ADMIN_KEY_SHA256]);
  for (const name of Object.keys(PRODUCTION_KEYS)) {
    for (const unset of [undefined, '']) {
      const env = { ...PRODUCTION_KEYS, [name]: unset };
      assert.throws(
        () => loadConfigFile('config/gateway.yaml', env),
        (error: unknown) => error instanceof ConfigError && error.message.includes(`environment variable ${name} is not set`) && error.message.includes('sha256'),
        `refused without ${name} (${String(unset)})`,
      );
    }
  }
});

test('no shipped production config holds a published key: the development keys are only in config/mock.yaml', () => {
  const mock = loadConfigFile('config/mock.yaml', {}).config;
  const published = [...Object.values(mock.tenants).flatMap((tenant) => tenant.keySha256), ...(mock.admin?.keySha256 ?? [])];
  assert.ok(published.length >= 2);
  const production = readFileSync('config/gateway.yaml', 'utf8');
  for (const digest of published) assert.ok(!production.includes(digest), `config/gateway.yaml does not hold ${digest}`);
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
    [
      { ...valid, providers: { openai: { ...valid.providers.openai, timeouts: { requestMs: 5_000, hedgeAfterMs: 5_000 } } } },
      /providers\.openai\.timeouts\.hedgeAfterMs: hedgeAfterMs must be below requestMs/,
    ],
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

test('${VAR:?message} is required: unset or empty, the file is refused with the variable and the message, never a value', () => {
  const yaml = `providers:\n  local:\n    type: openai-compatible\n    baseUrl: http://127.0.0.1:11434/v1\nmodels:\n  m: { provider: local }\nroutes: { default: [m] }\ndefaultRoute: default\ntenants: { t: { keySha256: ["\${TENANT_SHA:?the sha256 of the tenant key}"] } }\n`;
  const file = writeTemp('required.yaml', yaml);
  assert.deepEqual(loadConfigFile(file, { TENANT_SHA: 'e'.repeat(64) }).config.tenants.t?.keySha256, ['e'.repeat(64)]);
  for (const env of [{}, { TENANT_SHA: '' }]) {
    assert.throws(() => loadConfigFile(file, env), /environment variable TENANT_SHA is not set: the sha256 of the tenant key$/);
  }
});

test('a variable is expanded inside its string: a value with #, ": " or a new line cannot change the config around it', () => {
  const yaml = `providers:\n  local:\n    type: openai-compatible\n    baseUrl: http://127.0.0.1:11434/v1\nmodels:\n  m: { provider: local, upstreamModel: "\${MODEL_NAME}" }\nroutes: { default: [m] }\ndefaultRoute: default\ntenants: { t: { keySha256: ["${'b'.repeat(64)}"] } }\n`;
  const file = writeTemp('injected.yaml', yaml);
  const hostile = 'llama3 # not a comment\n  extra: { provider: local }\nkey: value';
  const loaded = loadConfigFile(file, { MODEL_NAME: hostile });
  assert.equal(loaded.config.models.m?.upstreamModel, hostile);
  assert.deepEqual(Object.keys(loaded.config.models), ['m'], 'no model was added by the value');
});
