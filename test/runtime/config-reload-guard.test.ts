// Config reloads take only a complete file (runtime/settled-file-watcher.ts),
// refuse removals the file does not confirm (runtime/config-removal-guard.ts),
// and audit what changed by name only (runtime/config-diff.ts). Polls are driven
// by hand and waits are injected: nothing here depends on the clock.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { stringify } from 'yaml';
import { CONFIRMABLE_REMOVALS, GatewayConfigSchema } from '../../common/config-schema';
import { diffConfigs } from '../../runtime/config-diff';
import { ConfigStore } from '../../services/config-store';
import { loadConfigFile, parseConfig } from '../../runtime/load-config';
import { SettledFileWatcher, type SettledRead } from '../../runtime/settled-file-watcher';

const directory = mkdtempSync(join(tmpdir(), 'switchyard-config-reload-guard-'));
after(() => rmSync(directory, { recursive: true, force: true }));

const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');
const TENANT_DIGEST = sha256('tenant-key');
const OTHER_TENANT_DIGEST = sha256('other-tenant-key');
const ADMIN_DIGEST = sha256('admin-key');
const SECRET_MESSAGE = 'fallback text that is a value, not a name';

/** A config with every section the truncation bug dropped, tenants in the middle as in the shipped files. */
function baseConfig(): Record<string, unknown> {
  return {
    providers: { openai: { type: 'openai', baseUrl: 'http://127.0.0.1:9/v1', apiKeyEnv: 'OPENAI_API_KEY' } },
    models: { 'gpt-4.1': { provider: 'openai' }, small: { provider: 'openai' } },
    routes: { default: ['gpt-4.1', 'small'] },
    defaultRoute: 'default',
    fallback: { message: SECRET_MESSAGE },
    tenants: { alpha: { keySha256: [TENANT_DIGEST] }, beta: { keySha256: [OTHER_TENANT_DIGEST] } },
    sensitivity: { classes: ['public', 'internal', 'restricted'], default: 'internal', actions: { restricted: 'refuse' } },
    admin: { keySha256: [ADMIN_DIGEST] },
    budgets: { daily: { tenant: 'alpha', period: 'day', limitUsd: 5 } },
  };
}

let files = 0;
/** A store over a fresh file holding `config`, with every audit event it writes. */
function storeOver(config: Record<string, unknown>) {
  files += 1;
  const path = join(directory, `gateway-${files}.yaml`);
  writeFileSync(path, stringify(config));
  const events: Record<string, unknown>[] = [];
  const store = new ConfigStore(loadConfigFile(path, {}), {}, (event) => events.push(event));
  const rewrite = (next: Record<string, unknown> | string): void => writeFileSync(path, typeof next === 'string' ? next : stringify(next));
  return { path, events, store, rewrite };
}

/** `edit` applied to a copy of the base config. */
function edited(edit: (config: Record<string, unknown>) => void): Record<string, unknown> {
  const config = structuredClone(baseConfig());
  edit(config);
  return config;
}

describe('a reload takes a file only once it has settled', () => {
  /** A watcher over a scripted file: `file.stamp` and `file.text` are what stat and read see. */
  function scripted(file: { stamp: string; text: string; onRead?: () => void }) {
    const handed: { read: SettledRead; trigger: string }[] = [];
    const waits: number[] = [];
    const watcher = new SettledFileWatcher('/config.yaml', (read, trigger) => handed.push({ read, trigger }), {
      stamp: () => file.stamp,
      read: () => {
        file.onRead?.();
        return file.text;
      },
      every: () => () => undefined,
      wait: async (ms) => {
        waits.push(ms);
      },
      settleMs: 250,
    });
    return { watcher, handed, waits };
  }

  test('a file whose stamp differs from the last poll is not read; it is read once two polls agree', () => {
    const file = { stamp: 'v1', text: 'first' };
    const { watcher, handed } = scripted(file);
    assert.equal(watcher.poll(), true, 'the first poll re-reads the file it started with, once');
    file.stamp = 'v2 half written';
    file.text = 'half';
    assert.equal(watcher.poll(), false, 'changed since the last poll: not read');
    file.stamp = 'v2 complete';
    file.text = 'whole';
    assert.equal(watcher.poll(), false, 'changed again: still not read');
    assert.equal(watcher.poll(), true, 'unchanged over two polls: read');
    assert.equal(watcher.poll(), false, 'what was taken is not taken again');
    assert.deepEqual(handed, [
      { read: { text: 'first' }, trigger: 'file changed' },
      { read: { text: 'whole' }, trigger: 'file changed' },
    ]);
  });

  test('a file that changes while it is read is not handed over; the next polls take it once it settles', () => {
    const file: { stamp: string; text: string; onRead?: () => void } = { stamp: 'v1', text: 'old' };
    const { watcher, handed } = scripted(file);
    watcher.poll();
    handed.length = 0;
    file.stamp = 'v2';
    watcher.poll();
    file.text = 'half';
    file.onRead = () => {
      file.stamp = 'v3';
      file.text = 'whole';
    };
    assert.equal(watcher.poll(), false, 'the stamp moved during the read');
    file.onRead = undefined;
    assert.equal(handed.length, 0, 'nothing handed over');
    assert.equal(watcher.poll(), false, 'v3 seen once');
    assert.equal(watcher.poll(), true, 'v3 seen twice');
    assert.deepEqual(handed, [{ read: { text: 'whole' }, trigger: 'file changed' }]);
  });

  test('a signal reads at once when the file holds still over the settle wait', async () => {
    const file = { stamp: 'v1', text: 'settled' };
    const { watcher, handed, waits } = scripted(file);
    assert.equal(await watcher.takeNow('SIGHUP'), true);
    assert.deepEqual(waits, [250]);
    assert.deepEqual(handed, [{ read: { text: 'settled' }, trigger: 'SIGHUP' }]);
  });

  test('a signal does not read a file that moves during the settle wait; the polls take it once it settles', async () => {
    const file: { stamp: string; text: string } = { stamp: 'v1', text: 'old' };
    const handed: SettledRead[] = [];
    const watcher = new SettledFileWatcher('/config.yaml', (read) => handed.push(read), {
      stamp: () => file.stamp,
      read: () => file.text,
      every: () => () => undefined,
      // The writer is still at it while the signal waits.
      wait: async () => {
        file.stamp = 'v2 more';
        file.text = 'more';
      },
    });
    file.stamp = 'v2 half';
    file.text = 'half';
    assert.equal(await watcher.takeNow('SIGHUP'), false);
    assert.equal(handed.length, 0, 'nothing handed over');
    watcher.poll();
    watcher.poll();
    assert.deepEqual(handed, [{ text: 'more' }]);
  });

  test('a missing file is reported once it stays missing, and only once', () => {
    const file = { stamp: 'v1', text: 'ok' };
    const handed: SettledRead[] = [];
    const watcher = new SettledFileWatcher('/config.yaml', (read) => handed.push(read), {
      stamp: () => file.stamp,
      read: () => {
        if (file.stamp === 'missing') throw new Error('ENOENT: no such file');
        return file.text;
      },
      every: () => () => undefined,
    });
    watcher.poll();
    handed.length = 0;
    file.stamp = 'missing';
    watcher.poll();
    assert.equal(handed.length, 0, 'nothing handed over');
    watcher.poll();
    watcher.poll();
    assert.equal(handed.length, 1);
    const [only] = handed;
    assert.ok(only !== undefined && 'error' in only, 'the read error is handed over');
    assert.match(only.error, /cannot read config file \/config\.yaml: ENOENT/);
  });

  test('the store watching a real file logs nothing while a write is half done, and applies it once it has settled', () => {
    const { path, events, store } = storeOver(baseConfig());
    let tick: () => void = () => assert.fail('the watch did not start polling');
    const stop = store.watch(path, { every: (_ms, poll) => ((tick = poll), () => undefined) });
    try {
      tick();
      assert.equal(events.length, 0, 'the first poll finds the config in force');
      const whole = stringify(edited((config) => ((config.routes as Record<string, string[]>).extra = ['small'])));
      writeFileSync(path, whole.slice(0, whole.indexOf('tenants:')));
      tick();
      writeFileSync(path, whole);
      tick();
      assert.equal(events.length, 0, 'nothing read, nothing logged, while the file changed between polls');
      tick();
      assert.equal(events.length, 1);
      assert.equal(events[0]?.audit, 'config_changed');
      assert.deepEqual(events[0]?.added, ['routes.extra']);
      assert.ok(Object.hasOwn(store.loaded.config.routes, 'extra'));
    } finally {
      stop();
    }
  });

  test('SIGHUP on the store reads the settled file with the injected settle wait', async () => {
    const { path, events, store, rewrite } = storeOver(baseConfig());
    const waited: number[] = [];
    const stop = store.watch(path, {
      every: () => () => undefined,
      settleMs: 5,
      wait: async (ms) => {
        waited.push(ms);
      },
    });
    try {
      rewrite(edited((config) => ((config.fallback as { message: string }).message = 'after the signal')));
      process.emit('SIGHUP', 'SIGHUP');
      // The reload follows the injected wait within a few turns of the event loop, not after any time.
      for (let turn = 0; turn < 100 && events.length === 0; turn += 1) await new Promise(setImmediate);
      assert.deepEqual(waited, [5], 'the signal waited (once) for the file to settle');
      assert.equal(events[0]?.audit, 'config_changed', `events: ${JSON.stringify(events)}`);
      assert.equal(events[0]?.trigger, 'SIGHUP');
      assert.equal(store.loaded.config.fallback.message, 'after the signal');
    } finally {
      stop();
    }
  });
});

describe('a reload that removes what the file does not confirm is refused', () => {
  const refusals: { name: string; edit: (config: Record<string, unknown>) => void; removals: string[]; says: RegExp }[] = [
    {
      name: 'a file truncated after the tenants block (issue 23)',
      edit: (config) => {
        delete config.sensitivity;
        delete config.admin;
        delete config.budgets;
      },
      removals: ['admin', 'budgets', 'sensitivity'],
      says: /admin \(every admin key: \/admin would answer 401\)/,
    },
    { name: 'the admin key dropped', edit: (config) => delete config.admin, removals: ['admin'], says: /\/admin would answer 401/ },
    { name: 'budgets dropped', edit: (config) => delete config.budgets, removals: ['budgets'], says: /would remove budgets/ },
    { name: 'sensitivity rules dropped', edit: (config) => delete config.sensitivity, removals: ['sensitivity'], says: /would remove sensitivity/ },
    { name: 'every tenant key removed', edit: (config) => ((config.tenants = {}), delete config.budgets), removals: ['budgets', 'tenantKeys'], says: /every request would answer 401/ },
  ];
  for (const { name, edit, removals, says } of refusals) {
    test(`${name}: refused, audited as config_rejected naming what would vanish and how to confirm, the config in force stays`, () => {
      const { path, events, store, rewrite } = storeOver(baseConfig());
      const inForce = store.current;
      rewrite(edited(edit));
      assert.equal(store.reload(path, 'test'), false);
      assert.equal(store.current, inForce);
      assert.equal(events.length, 1);
      const event = events[0] ?? {};
      assert.equal(event.audit, 'config_rejected');
      assert.equal(event.version, inForce.loaded.version, 'names the version that stays in force');
      assert.deepEqual(event.unconfirmedRemovals, removals);
      assert.match(String(event.error), says);
      assert.match(String(event.error), new RegExp(`confirmRemoval: \\[${removals.join(', ')}\\]`));
    });

    test(`${name}: applied when confirmRemoval names exactly what it removes`, () => {
      const { path, events, store, rewrite } = storeOver(baseConfig());
      rewrite(edited((config) => (edit(config), (config.confirmRemoval = removals))));
      assert.equal(store.reload(path, 'test'), true, `events: ${JSON.stringify(events)}`);
      assert.equal(events[0]?.audit, 'config_changed');
      assert.deepEqual(events[0]?.confirmedRemovals, removals);
    });
  }

  test('a marker that names only part of what is removed still refuses, naming the rest', () => {
    const { path, events, store, rewrite } = storeOver(baseConfig());
    const inForce = store.loaded.version;
    rewrite(
      edited((config) => {
        delete config.admin;
        delete config.budgets;
        config.confirmRemoval = ['budgets'];
      }),
    );
    assert.equal(store.reload(path, 'test'), false);
    assert.equal(store.loaded.version, inForce);
    assert.deepEqual(events[0]?.unconfirmedRemovals, ['admin']);
    assert.match(String(events[0]?.error), /confirmRemoval names budgets but not admin/);
    assert.match(String(events[0]?.error), /confirmRemoval: \[admin, budgets\]/);
  });

  test('the file watch refuses the truncated file as a reload does', () => {
    const { path, events, store, rewrite } = storeOver(baseConfig());
    let tick: () => void = () => assert.fail('the watch did not start polling');
    const stop = store.watch(path, { every: (_ms, poll) => ((tick = poll), () => undefined) });
    try {
      tick();
      const whole = stringify(baseConfig());
      rewrite(whole.slice(0, whole.indexOf('sensitivity:')));
      tick();
      tick();
      assert.deepEqual(
        events.map((event) => [event.audit, event.trigger, event.unconfirmedRemovals]),
        [['config_rejected', 'file changed', ['admin', 'budgets', 'sensitivity']]],
      );
      tick();
      assert.equal(events.length, 1, 'a refused file is reported once, not at every poll');
    } finally {
      stop();
    }
  });

  test('a section dropped that held only defaults changes nothing in force and is no removal', () => {
    const { path, events, store, rewrite } = storeOver({ ...baseConfig(), logging: { prompts: false } });
    rewrite(edited((config) => ((config.routes as Record<string, string[]>).extra = ['small'])));
    assert.equal(store.reload(path, 'test'), true, `events: ${JSON.stringify(events)}`);
    assert.equal(events[0]?.confirmedRemovals, undefined);
  });

  test('a section added, or some tenants removed, needs no marker; dropping the marker itself is no removal', () => {
    const { path, events, store, rewrite } = storeOver({ ...baseConfig(), confirmRemoval: ['budgets'] });
    rewrite(
      edited((config) => {
        delete (config.tenants as Record<string, unknown>).beta;
        config.logging = { prompts: true };
      }),
    );
    assert.equal(store.reload(path, 'test'), true, `events: ${JSON.stringify(events)}`);
    assert.deepEqual(events[0]?.removed, ['confirmRemoval', 'tenants.beta']);
    // Paths are of the config in force, defaults filled in: `logging` was there, with `prompts: false`.
    assert.deepEqual(events[0]?.changed, ['logging.prompts']);
  });

  test('a marker is harmless at startup and the first load is never refused', () => {
    const loaded = parseConfig({ ...edited((config) => delete config.admin), confirmRemoval: ['admin', 'tenantKeys'] });
    const store = new ConfigStore(loaded, {}, () => assert.fail('nothing to audit'));
    assert.equal(store.loaded.config.admin, undefined);
    assert.deepEqual(store.loaded.config.confirmRemoval, ['admin', 'tenantKeys']);
  });

  test('a marker naming something that is not a section is a config error naming the field', () => {
    assert.throws(() => parseConfig({ ...baseConfig(), confirmRemoval: ['budget'] }), /confirmRemoval\.0/);
  });

  test('every top-level section can be confirmed', () => {
    const sections = Object.keys(GatewayConfigSchema.shape).filter((section) => section !== 'confirmRemoval');
    assert.deepEqual(
      sections.filter((section) => !(CONFIRMABLE_REMOVALS as readonly string[]).includes(section)),
      [],
      'add the new section to CONFIRMABLE_REMOVALS',
    );
  });
});

describe('an accepted change is audited by name, never by value', () => {
  test('sections and the paths added, removed and changed in them are listed; key digests and messages are not', () => {
    const { path, events, store, rewrite } = storeOver(baseConfig());
    const rotated = sha256('rotated-admin-key');
    rewrite(
      edited((config) => {
        (config.admin as { keySha256: string[] }).keySha256 = [rotated];
        (config.tenants as Record<string, unknown>).gamma = { keySha256: [sha256('gamma-key')] };
        delete (config.models as Record<string, unknown>).small;
        (config.routes as Record<string, string[]>).default = ['gpt-4.1'];
        (config.fallback as { message: string }).message = `${SECRET_MESSAGE}, changed`;
        (config.models as Record<string, { contextWindow?: number }>)['gpt-4.1'] = { provider: 'openai', contextWindow: 1_000 } as never;
      }),
    );
    assert.equal(store.reload(path, 'test'), true, `events: ${JSON.stringify(events)}`);
    const logged = JSON.stringify(events);
    for (const value of [ADMIN_DIGEST, rotated, TENANT_DIGEST, sha256('gamma-key'), SECRET_MESSAGE, '127.0.0.1']) {
      assert.ok(!logged.includes(value), `the audit event holds the value ${value}: ${logged}`);
    }
    const event = events[0] ?? {};
    assert.deepEqual(event.sections, ['admin', 'fallback', 'models', 'routes', 'tenants']);
    assert.deepEqual(event.added, ['models["gpt-4.1"].contextWindow', 'tenants.gamma']);
    assert.deepEqual(event.removed, ['models.small']);
    assert.deepEqual(event.changed, ['admin.keySha256', 'fallback.message', 'routes.default']);
  });

  test('a change touching very many paths lists a bounded number and counts the rest', () => {
    const before = parseConfig(baseConfig()).config;
    const routes = Object.fromEntries(Array.from({ length: 250 }, (_, index) => [`route-${index}`, ['small']]));
    const after = parseConfig(edited((config) => (config.routes = { ...(config.routes as object), ...routes }))).config;
    const summary = diffConfigs(before, after);
    assert.equal(summary.added.length, 100);
    assert.equal(summary.omittedPaths, 150);
  });
});
