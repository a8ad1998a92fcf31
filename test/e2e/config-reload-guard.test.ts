// Issue 23, item 4, through a running gateway: a config file cut short after
// the tenants block still validates, and used to be hot-applied (admin keys,
// budgets and sensitivity rules gone, /admin answering 401). The file watch now
// refuses it as `config_rejected` and keeps the config in force; a complete
// change is applied and audited by name.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { stringify } from 'yaml';
import { ADMIN_KEY, TENANT_KEY, startHarness, type Harness } from '../support/gateway-harness';
import { waitFor } from '../support/processes';

let harness: Harness;
let original: Record<string, unknown>;

before(async () => {
  harness = await startHarness({ configPatch: { budgets: { 'alpha-daily': { tenant: 'alpha', period: 'day', limitUsd: 1_000 } } } });
  original = JSON.parse(readFileSync(harness.configFile, 'utf8')) as Record<string, unknown>;
});

after(async () => {
  await harness?.stop();
});

/** The config as YAML with `tenants` followed by the sections the bug dropped, as the shipped files are laid out. */
function asYaml(config: Record<string, unknown>): string {
  const { admin, sensitivity, budgets, ...rest } = config;
  const { tenants, ...head } = rest;
  return stringify({ ...head, tenants, admin, sensitivity, budgets });
}

async function auditEvents(kind: string): Promise<{ status: number; events: Record<string, unknown>[] }> {
  const response = await fetch(`${harness.apiUrl}/admin/audit?audit=${kind}`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } });
  const body = (await response.json()) as { data?: Record<string, unknown>[] };
  return { status: response.status, events: body.data ?? [] };
}

/** Waits (polled every 100 ms, at most a minute) for an audit event of `kind` that `matches`. */
async function awaitAudit(kind: string, matches: (event: Record<string, unknown>) => boolean): Promise<Record<string, unknown>> {
  let found: Record<string, unknown> | undefined;
  let lastStatus = 0;
  await waitFor(async () => {
    const answer = await auditEvents(kind);
    lastStatus = answer.status;
    found = answer.events.find(matches);
    return found !== undefined;
  }, `a ${kind} audit event from the reload`).catch((error: unknown) => {
    assert.fail(`${String(error)} (GET /admin/audit last answered ${lastStatus})`);
  });
  assert.ok(found);
  return found;
}

async function chat(headers: Record<string, string> = {}): Promise<number> {
  const response = await fetch(`${harness.apiUrl}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${TENANT_KEY}`, 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ model: 'model-a', messages: [{ role: 'user', content: 'hello' }] }),
  });
  await response.arrayBuffer();
  return response.status;
}

test('a config file truncated after the tenants block is refused and the config in force stays; a complete change then applies', async () => {
  const store = harness.gateway?.store;
  assert.ok(store, 'the harness runs the embedded gateway, which watches the config file');
  const inForce = store.loaded.version;

  // The whole config as YAML first: the same config, so nothing changes.
  const whole = asYaml(original);
  const truncated = whole.slice(0, whole.indexOf('\nadmin:') + 1);
  assert.match(truncated, /tenants:/);
  assert.doesNotMatch(truncated, /^(admin|sensitivity|budgets):/m);
  writeFileSync(harness.configFile, truncated);

  const rejection = await awaitAudit('config_rejected', (event) => event.trigger === 'file changed');
  assert.deepEqual(rejection.unconfirmedRemovals, ['admin', 'budgets', 'sensitivity']);
  assert.match(String(rejection.error), /\/admin would answer 401/);
  assert.match(String(rejection.error), /confirmRemoval: \[admin, budgets, sensitivity\]/);
  assert.equal(rejection.version, inForce, 'the event names the version that stays in force');
  assert.equal(store.loaded.version, inForce);

  // The old config is in force: /admin still takes the admin key, the refuse rule still holds.
  assert.equal((await auditEvents('config_rejected')).status, 200);
  assert.equal(await chat({ 'x-gateway-sensitivity': 'restricted' }), 400);
  assert.equal(await chat(), 200);

  const changed = { ...original, routes: { ...(original.routes as object), reloaded: ['model-b'] } };
  writeFileSync(harness.configFile, asYaml(changed));
  const change = await awaitAudit('config_changed', (event) => event.previousVersion === inForce);
  assert.deepEqual(change.sections, ['routes']);
  assert.deepEqual(change.added, ['routes.reloaded']);
  assert.equal(store.loaded.version, change.version);
  const models = (await (await fetch(`${harness.apiUrl}/v1/models`, { headers: { authorization: `Bearer ${TENANT_KEY}` } })).json()) as { data: { id: string }[] };
  assert.ok(models.data.some((model) => model.id === 'reloaded'), 'the API lists the new route');
  assert.equal((await auditEvents('config_changed')).status, 200, 'the admin key still opens /admin');
});
