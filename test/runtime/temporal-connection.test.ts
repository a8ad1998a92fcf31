// Every process reads its Temporal connection as every Temporal application
// does: a TOML profile, overridden by the standard TEMPORAL_* variables.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { readTemporalConnection } from '../../runtime/temporal-connection';

const folder = mkdtempSync(join(tmpdir(), 'temporal-connection-'));
// No home: the user's own ~/.config/temporalio/temporal.toml never leaks into a test.
const HOME = join(folder, 'no-home');
writeFileSync(join(folder, 'ca.pem'), 'CA-PEM');
writeFileSync(join(folder, 'client.pem'), 'CLIENT-PEM');
writeFileSync(join(folder, 'client.key'), 'CLIENT-KEY');
const toml = join(folder, 'temporal.toml');
writeFileSync(
  toml,
  [
    '[profile.default]',
    'address = "default.example:7233"',
    '',
    '[profile.prod]',
    'address = "prod.tmprl.cloud:7233"',
    'namespace = "prod.a1b2c"',
    '[profile.prod.tls]',
    `client_cert_path = "${join(folder, 'client.pem')}"`,
    `client_key_path = "${join(folder, 'client.key')}"`,
    `server_ca_cert_path = "${join(folder, 'ca.pem')}"`,
    'server_name = "prod.internal"',
    '',
  ].join('\n'),
);

test('nothing set: the local dev server on 127.0.0.1:7233, namespace default, no TLS', () => {
  const connection = readTemporalConnection({ HOME });
  assert.deepEqual(connection.options, { address: '127.0.0.1:7233' });
  assert.deepEqual(connection.summary, { address: '127.0.0.1:7233', namespace: 'default', profile: null, tls: false, apiKey: false });
});

test('a profile from the TOML file: address, namespace and mTLS files', () => {
  const connection = readTemporalConnection({ HOME, TEMPORAL_CONFIG_FILE: toml, TEMPORAL_PROFILE: 'prod' });
  assert.equal(connection.address, 'prod.tmprl.cloud:7233');
  assert.equal(connection.namespace, 'prod.a1b2c');
  const tls = connection.options.tls;
  assert.ok(tls && typeof tls === 'object', 'TLS is configured');
  assert.equal(tls.serverNameOverride, 'prod.internal');
  assert.equal(Buffer.from(tls.serverRootCACertificate ?? '').toString(), 'CA-PEM');
  assert.equal(Buffer.from(tls.clientCertPair?.crt ?? '').toString(), 'CLIENT-PEM');
  assert.equal(Buffer.from(tls.clientCertPair?.key ?? '').toString(), 'CLIENT-KEY');
  assert.equal(connection.summary.tls, true);
});

test('TEMPORAL_* variables override the profile; an API key turns TLS on', () => {
  const connection = readTemporalConnection({
    HOME,
    TEMPORAL_CONFIG_FILE: toml,
    TEMPORAL_ADDRESS: 'eu-west-1.aws.api.temporal.io:7233',
    TEMPORAL_NAMESPACE: 'gateway.a1b2c',
    TEMPORAL_API_KEY: 'secret-api-key',
  });
  assert.equal(connection.address, 'eu-west-1.aws.api.temporal.io:7233');
  assert.equal(connection.namespace, 'gateway.a1b2c');
  assert.equal(connection.options.apiKey, 'secret-api-key');
  assert.equal(connection.options.tls, true);
  assert.deepEqual(connection.summary, { address: 'eu-west-1.aws.api.temporal.io:7233', namespace: 'gateway.a1b2c', profile: null, tls: true, apiKey: true });
  assert.ok(!JSON.stringify(connection.summary).includes('secret-api-key'), 'the summary (what logs show) holds no key');
});

test('TLS from variables alone: certificate and key paths, server CA and name', () => {
  const connection = readTemporalConnection({
    HOME,
    TEMPORAL_ADDRESS: '10.0.0.5:7233',
    TEMPORAL_TLS_CLIENT_CERT_PATH: join(folder, 'client.pem'),
    TEMPORAL_TLS_CLIENT_KEY_PATH: join(folder, 'client.key'),
    TEMPORAL_TLS_SERVER_CA_CERT_PATH: join(folder, 'ca.pem'),
    TEMPORAL_TLS_SERVER_NAME: 'temporal.internal',
  });
  const tls = connection.options.tls;
  assert.ok(tls && typeof tls === 'object');
  assert.equal(tls.serverNameOverride, 'temporal.internal');
  assert.equal(Buffer.from(tls.clientCertPair?.crt ?? '').toString(), 'CLIENT-PEM');
});

test('a named file that does not exist, or a profile it lacks, is a clear error', () => {
  assert.throws(() => readTemporalConnection({ HOME, TEMPORAL_CONFIG_FILE: join(folder, 'missing.toml') }), /TEMPORAL_CONFIG_FILE names .*missing\.toml, which does not exist/);
  assert.throws(() => readTemporalConnection({ HOME, TEMPORAL_CONFIG_FILE: toml, TEMPORAL_PROFILE: 'staging' }), /Temporal connection settings: Profile 'staging' not found/);
});
