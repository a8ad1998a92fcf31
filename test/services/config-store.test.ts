import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { ConfigStore } from '../../services/config-store';
import { loadConfigFile } from '../../runtime/load-config';

const directory = mkdtempSync(join(tmpdir(), 'switchyard-config-store-'));
after(() => rmSync(directory, { recursive: true, force: true }));

function configFile(name: string): string {
  const path = join(directory, name);
  writeFileSync(path, readFileSync(join(__dirname, '../../config/mock.yaml'), 'utf8'));
  return path;
}

test('a changed file replaces the config for what comes next, and the change is audited with both versions and what changed', () => {
  const path = configFile('changed.yaml');
  const events: Record<string, unknown>[] = [];
  const store = new ConfigStore(loadConfigFile(path, {}), {}, (event) => events.push(event));
  const first = store.current;
  writeFileSync(path, readFileSync(path, 'utf8').replace('temporarily unavailable', 'briefly unavailable'));
  assert.equal(store.reload(path, 'test'), true);
  assert.notEqual(store.loaded.version, first.loaded.version);
  assert.match(store.loaded.config.fallback.message, /briefly unavailable/);
  // What a running request already holds is untouched.
  assert.match(first.loaded.config.fallback.message, /temporarily unavailable/);
  assert.notEqual(store.current.adapters, first.adapters);
  assert.deepEqual(events, [
    {
      audit: 'config_changed',
      path,
      trigger: 'test',
      version: store.loaded.version,
      previousVersion: first.loaded.version,
      sections: ['fallback'],
      added: [],
      removed: [],
      changed: ['fallback.message'],
    },
  ]);
});

test('an unchanged file changes nothing and logs nothing', () => {
  const path = configFile('same.yaml');
  const events: Record<string, unknown>[] = [];
  const store = new ConfigStore(loadConfigFile(path, {}), {}, (event) => events.push(event));
  const state = store.current;
  assert.equal(store.reload(path, 'test'), false);
  assert.equal(store.current, state);
  assert.deepEqual(events, []);
});

test('a broken file is rejected, audited, and the config in force stays', () => {
  const path = configFile('broken.yaml');
  const events: Record<string, unknown>[] = [];
  const store = new ConfigStore(loadConfigFile(path, {}), {}, (event) => events.push(event));
  const version = store.loaded.version;
  writeFileSync(path, 'providers: {}\nmodels: { x: { provider: nowhere } }\n');
  assert.equal(store.reload(path, 'test'), false);
  assert.equal(store.loaded.version, version);
  assert.equal(events.length, 1);
  assert.equal(events[0]?.audit, 'config_rejected');
  assert.equal(events[0]?.version, version);
  assert.match(String(events[0]?.error), /routes|defaultRoute|tenants|provider/);
});
