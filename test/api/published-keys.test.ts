import assert from 'node:assert/strict';
import { test } from 'node:test';
import { hashKey } from '../../api/authenticate';
import { PUBLISHED_KEYS, assertNoPublishedKeysBeyondLoopback, isLoopbackHost } from '../../api/published-keys';
import { loadConfigFile } from '../../runtime/load-config';

const mockConfig = loadConfigFile('config/mock.yaml', {}).config;
const ownKeys = loadConfigFile('config/gateway.yaml', {
  SWITCHYARD_TENANT_KEY_SHA256: hashKey('a key of our own'),
  SWITCHYARD_ADMIN_KEY_SHA256: hashKey('an admin key of our own'),
}).config;

test('loopback bind addresses are told from the rest', () => {
  for (const host of ['127.0.0.1', '127.8.9.1', 'localhost', '::1', '[::1]', '::ffff:127.0.0.1']) assert.ok(isLoopbackHost(host), host);
  for (const host of ['0.0.0.0', '::', '10.0.0.5', '192.168.1.2', 'gateway.example.com', '']) assert.ok(!isLoopbackHost(host), host);
});

test('the published development keys are the ones config/mock.yaml accepts', () => {
  const digests = [...Object.values(mockConfig.tenants).flatMap((tenant) => tenant.keySha256), ...(mockConfig.admin?.keySha256 ?? [])];
  assert.deepEqual(digests.sort(), PUBLISHED_KEYS.map(hashKey).sort());
});

test('a config with a published key listens on loopback only; a config with keys of its own listens anywhere', () => {
  assert.doesNotThrow(() => assertNoPublishedKeysBeyondLoopback(mockConfig, '127.0.0.1'));
  for (const host of ['0.0.0.0', '::', '10.0.0.5']) {
    assert.throws(() => assertNoPublishedKeysBeyondLoopback(mockConfig, host), new RegExp(`refusing to listen on ${host.replace(/\./g, '\\.')}: .*published development key`));
  }
  assert.doesNotThrow(() => assertNoPublishedKeysBeyondLoopback(ownKeys, '0.0.0.0'));
});

test('a published admin key alone is refused too', () => {
  const adminOnly = { ...ownKeys, admin: { keySha256: [hashKey('switchyard-dev-admin-key')] } };
  assert.throws(() => assertNoPublishedKeysBeyondLoopback(adminOnly, '0.0.0.0'), /published development key/);
});
