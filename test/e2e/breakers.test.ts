// Shared circuit breakers on the real dev server with two worker processes
// and an API process: a provider that goes fully down stops being called
// once its breaker opens (only probes reach it), traffic returns after a
// cool-down and a good probe, and operators can force a breaker either way.
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import OpenAI from 'openai';
import { ADMIN_KEY, TENANT_KEY, startHarness, type Harness } from '../support/gateway-harness';
import { killAll, startEntryPoint, waitFor } from '../support/processes';
import { DEFAULT_BREAKER_SETTINGS } from '../../common/config-schema';
import { BREAKER_MEMO_KEY, breakerOutcomesSignal, breakerWorkflowId, providerBreakerWorkflow, type BreakerRoutingView } from '../../workflows/breaker/provider-breaker-workflow';

const COOL_DOWN_MS = 3_000;
const THRESHOLD = 3;

let harness: Harness;
let apiUrl: string;
let openai: OpenAI;
const children: ChildProcess[] = [];
/** Each worker process's /metrics URL. */
const workerMetrics: string[] = [];

interface BreakerRow {
  key: string;
  mode: string;
  probesGranted: number;
  forced: string | null;
  reason: string | null;
  audit?: { actor: string; action: string; reason: string }[];
}

type Completion = OpenAI.Chat.ChatCompletion & {
  gateway: { attempts: { model: string; failureType?: string }[]; route: { rejected: { model: string; reason: string }[] }; fallbacks: number; workflow_id: string };
};

before(async () => {
  harness = await startHarness({
    embeddedGateway: false,
    breaker: { consecutiveFailures: THRESHOLD, coolDownMs: COOL_DOWN_MS, maxCoolDownMs: 4 * COOL_DOWN_MS, probes: 1 },
  });
  for (let index = 0; index < 2; index += 1) {
    const worker = await startEntryPoint('worker/main.ts', 'worker started', harness.env);
    children.push(worker.child);
    workerMetrics.push(String(worker.line.metrics));
  }
  const api = await startEntryPoint('api/main.ts', 'api listening', harness.env);
  children.push(api.child);
  apiUrl = String(api.line.url);
  openai = new OpenAI({ baseURL: `${apiUrl}/v1`, apiKey: TENANT_KEY, maxRetries: 0, timeout: 60_000 });
});

after(async () => {
  killAll(children);
  await harness?.stop();
});

async function ask(model = 'model-a'): Promise<Completion> {
  return (await openai.chat.completions.create({ model, messages: [{ role: 'user', content: 'steady traffic' }] })) as Completion;
}

async function admin(method: string, path: string, body?: unknown, key = ADMIN_KEY) {
  const response = await fetch(`${apiUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as { data?: BreakerRow[] } & BreakerRow & { error?: { code: string } } };
}

async function breaker(provider: string): Promise<BreakerRow | undefined> {
  return (await admin('GET', '/admin/breakers')).body.data?.find((row) => row.key === provider);
}

/** Whether every worker's own view of `provider`'s breaker (its breaker-state gauge) has left closed. */
async function everyWorkerSeesOpen(provider: string): Promise<boolean> {
  const closed = new RegExp(`^switchyard_breaker_state\\{provider="${provider}",state="closed"\\} 0$`, 'm');
  const texts = await Promise.all(workerMetrics.map(async (url) => (await fetch(url)).text()));
  return texts.every((text) => closed.test(text));
}

async function modelACalls(): Promise<number> {
  return (await harness.calls())['model-a'] ?? 0;
}

test('a provider that goes down stops being called once its breaker opens, and gets its traffic back after it recovers', async () => {
  // Before: the primary answers.
  for (let index = 0; index < 5; index += 1) assert.equal((await ask()).model, 'model-a');

  // The primary goes fully down. Requests keep flowing (each falls over to model-b) until the breaker opens.
  await harness.setFault('model-a', { status: 503 });
  const before = await modelACalls();
  let opened = false;
  for (let index = 0; index < 40 && !opened; index += 1) {
    assert.equal((await ask()).model, 'model-b');
    opened = (await breaker('mock-openai'))?.mode === 'open';
  }
  assert.ok(opened, 'the breaker opened');
  const atOpen = (await modelACalls()) - before;
  assert.ok(atOpen >= THRESHOLD, `the breaker opened after at least ${THRESHOLD} failed calls (${atOpen})`);

  // Once every worker has heard of it (each reads the breaker every second), requests skip the primary without calling it.
  await waitFor(() => everyWorkerSeesOpen('mock-openai'), 'every worker to see the breaker of mock-openai open');
  // No request is in flight: every call to the primary from here on is counted below.
  const probesBefore = (await breaker('mock-openai'))?.probesGranted ?? 0;
  const settled = await modelACalls();
  const skipped: Completion[] = [];
  for (let index = 0; index < 15; index += 1) skipped.push(await ask());
  assert.ok(skipped.every((completion) => completion.model === 'model-b'));
  const duringOutage = (await modelACalls()) - settled;
  // Only half-open probes reach the dead provider: each call held a probe permit from the breaker
  // (one per cool-down, which doubles after each failed probe; how many cool-downs pass depends on the machine's speed).
  const probes = ((await breaker('mock-openai'))?.probesGranted ?? 0) - probesBefore;
  assert.ok(duringOutage <= probes, `the dead provider got ${duringOutage} calls while open, but only ${probes} probe permits were granted`);
  const skippedWithoutCall = skipped.filter((completion) =>
    completion.gateway.route.rejected.some((model) => model.model === 'model-a' && model.reason.startsWith('breaker open')),
  );
  assert.ok(skippedWithoutCall.length > 0, 'routing rejected the primary as breaker open');

  // The primary comes back: within a cool-down plus a probe, traffic returns to it.
  await harness.clearFaults();
  let back = false;
  for (let index = 0; index < 200 && !back; index += 1) {
    back = (await ask()).model === 'model-a';
    if (!back) await sleep(100);
  }
  assert.ok(back, 'traffic returned to the primary');
  // The good probe's outcome reaches the breaker with the next batch.
  let mode: string | undefined;
  for (let index = 0; index < 50 && mode !== 'closed'; index += 1) {
    mode = (await breaker('mock-openai'))?.mode;
    if (mode !== 'closed') await sleep(100);
  }
  assert.equal(mode, 'closed');
});

test('operators force a breaker open (drain) and back through the admin API; routing follows within seconds', async () => {
  assert.equal((await admin('GET', '/admin/breakers', undefined, TENANT_KEY)).status, 403, 'a tenant key is not an admin key');
  assert.equal((await admin('GET', '/admin/breakers', undefined, 'no-such-key')).status, 401);
  const forced = await admin('POST', '/admin/breakers/mock-anthropic', { mode: 'open', reason: 'vendor incident 7' });
  assert.equal(forced.status, 200);
  assert.equal(forced.body.mode, 'open');
  assert.equal(forced.body.forced, 'open');

  let drained: Completion | undefined;
  for (let index = 0; index < 100; index += 1) {
    drained = await ask('model-b');
    if (drained.model === 'model-c') break;
    await sleep(100);
  }
  assert.equal(drained?.model, 'model-c');
  // Skipped without a call: by routing (its snapshot already had the breaker open), or at the call (a worker whose snapshot was a moment older).
  const skippedByRouting = /^breaker open/.test(drained?.gateway.route.rejected.find((model) => model.model === 'model-b')?.reason ?? '');
  const skippedAtCall = drained?.gateway.attempts.some((attempt) => attempt.model === 'model-b' && attempt.failureType === 'BreakerOpen') ?? false;
  assert.ok(skippedByRouting || skippedAtCall, JSON.stringify(drained?.gateway));
  // The API's explanation plans from the same snapshot as the workflow: the drained provider's model is rejected there too.
  let explained: { candidates: { model: string }[]; rejected: { model: string; reason: string }[] } | undefined;
  for (let round = 0; round < 50; round += 1) {
    const response = await fetch(`${apiUrl}/v1/route/explain`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TENANT_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'model-b', messages: [{ role: 'user', content: 'steady traffic' }] }),
    });
    assert.equal(response.status, 200);
    explained = (await response.json()) as typeof explained;
    if (explained?.rejected.some((model) => model.model === 'model-b')) break;
    await sleep(100);
  }
  assert.match(explained?.rejected.find((model) => model.model === 'model-b')?.reason ?? '', /^breaker open/, JSON.stringify(explained));
  assert.equal(explained?.candidates[0]?.model, 'model-c', 'the explanation sends it where the workflow does');

  const released = await admin('POST', '/admin/breakers/mock-anthropic', { mode: 'auto', reason: 'incident over' });
  assert.equal(released.body.mode, 'closed');
  assert.deepEqual(
    released.body.audit?.map((entry) => [entry.action, entry.reason]),
    [
      ['force open', 'vendor incident 7'],
      ['force auto', 'incident over'],
    ],
  );
  assert.match(released.body.audit?.[0]?.actor ?? '', /^admin:[0-9a-f]{12}$/);
  let restored = false;
  for (let index = 0; index < 100 && !restored; index += 1) {
    restored = (await ask('model-b')).model === 'model-b';
    if (!restored) await sleep(100);
  }
  assert.ok(restored, 'traffic returned to model-b');

  let trail: { audit: string; provider: string; mode: string; reason: string }[] = [];
  for (let round = 0; round < 50 && trail.length < 2; round += 1) {
    trail = ((await admin('GET', '/admin/audit?audit=breaker_forced')).body as unknown as { data: typeof trail }).data;
    if (trail.length < 2) await sleep(100);
  }
  assert.deepEqual(
    trail.map((event) => [event.provider, event.mode, event.reason]),
    [
      ['mock-anthropic', 'auto', 'incident over'],
      ['mock-anthropic', 'open', 'vendor incident 7'],
    ],
  );
  assert.equal((await admin('POST', '/admin/breakers/nowhere', { mode: 'open', reason: 'x' })).status, 404);
  assert.equal((await admin('POST', '/admin/breakers/mock-anthropic', { mode: 'sideways', reason: 'x' })).status, 400);
});

test('with every breaker open the request gets the deterministic fallback answer, marked as such, not a 400', async () => {
  const providers = ['mock-openai', 'mock-anthropic', 'mock-local'];
  for (const provider of providers) assert.equal((await admin('POST', `/admin/breakers/${provider}`, { mode: 'open', reason: 'all down drill' })).status, 200);
  try {
    // Until the workers' routing snapshots have every breaker open (before, a worker skips them at the call instead).
    let answered: { status: number; outcome: string | null; body: Completion } | undefined;
    for (let round = 0; round < 100; round += 1) {
      await harness.resetCalls();
      const response = await fetch(`${apiUrl}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${TENANT_KEY}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'model-a', messages: [{ role: 'user', content: 'everything is down' }] }),
      });
      answered = { status: response.status, outcome: response.headers.get('x-gateway-outcome'), body: (await response.json()) as Completion };
      assert.equal(answered.status, 200, `every breaker open is not the caller's fault: ${JSON.stringify(answered.body)}`);
      const rejected = answered.body.gateway.route.rejected;
      if (providers.length === rejected.filter((model) => model.reason.startsWith('breaker open')).length) break;
      await sleep(100);
    }
    assert.equal(answered?.outcome, 'fallback_answer');
    assert.equal(answered?.body.model, 'fallback');
    assert.deepEqual(
      answered?.body.gateway.route.rejected.map((model) => model.model),
      ['model-a', 'model-b', 'model-c'],
      'routing skipped every model for its breaker',
    );
    assert.deepEqual(
      answered?.body.gateway.attempts.map((attempt) => [attempt.model, attempt.failureType]),
      [
        ['model-a', 'BreakerOpen'],
        ['model-b', 'BreakerOpen'],
        ['model-c', 'BreakerOpen'],
      ],
    );
    assert.deepEqual(await harness.calls(), {}, 'no provider was called for that request');
    // One definition of fallbacks: the response's and the search attribute ops query (FallbackCount > 0) agree.
    assert.equal(answered?.body.gateway.fallbacks, 3);
    const description = await harness.client.workflow.getHandle(answered?.body.gateway.workflow_id ?? '').describe();
    const fallbackCount = description.typedSearchAttributes.getAll().find((pair) => pair.key.name === 'FallbackCount')?.value;
    assert.equal(fallbackCount, 3, 'skipped models are fallbacks in visibility too');
  } finally {
    for (const provider of providers) await admin('POST', `/admin/breakers/${provider}`, { mode: 'auto', reason: 'drill over' });
  }
});

test('a request no model may serve is still a 400 while breakers are open', async () => {
  assert.equal((await admin('POST', '/admin/breakers/mock-openai', { mode: 'open', reason: 'drill' })).status, 200);
  try {
    // model-small's 300-token window cannot hold this prompt: the caller's fault, breaker or not.
    const response = await fetch(`${apiUrl}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TENANT_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'model-small', messages: [{ role: 'user', content: 'word '.repeat(600) }] }),
    });
    assert.equal(response.status, 400);
    const { error } = (await response.json()) as { error: { code: string; message: string } };
    assert.equal(error.code, 'no_eligible_model');
    assert.match(error.message, /model-small: prompt of ~\d+ tokens does not fit its 300-token window/);
  } finally {
    await admin('POST', '/admin/breakers/mock-openai', { mode: 'auto', reason: 'drill over' });
  }
});

test('a half-open breaker too busy to grant a probe permit in time skips its provider without a failed call; nobody waits it out', async () => {
  const workflowId = breakerWorkflowId('mock-openai');
  await harness.client.workflow.getHandle(workflowId).terminate('replaced by a breaker that never answers').catch(() => undefined);
  // A breaker no worker runs: it publishes half-open in its memo but can answer no update (no permit ever comes).
  const stuck: BreakerRoutingView = { key: 'mock-openai', mode: 'half_open', automaticMode: 'half_open', forced: null, reason: 'cool-down over', openUntil: null, models: {} };
  await harness.client.workflow.start(providerBreakerWorkflow, {
    workflowId,
    taskQueue: `nobody-polls-${process.pid}`,
    args: [{ key: 'mock-openai', settings: DEFAULT_BREAKER_SETTINGS }],
    memo: { [BREAKER_MEMO_KEY]: stuck },
  });
  try {
    let skipped: Completion | undefined;
    for (let round = 0; round < 100 && !skipped; round += 1) {
      const answer = await ask('model-a');
      assert.deepEqual(
        answer.gateway.attempts.filter((attempt) => attempt.failureType === 'Timeout'),
        [],
        `no attempt fails for breaker bookkeeping: ${JSON.stringify(answer.gateway.attempts)}`,
      );
      const first = answer.gateway.attempts[0];
      if (first?.model === 'model-a' && first.failureType === 'BreakerOpen' && /half-open/.test((first as { message?: string }).message ?? '')) skipped = answer;
      else await sleep(100);
    }
    assert.ok(skipped, 'the workers saw the breaker half-open and skipped model-a');
    assert.equal(skipped.model, 'model-b', JSON.stringify(skipped.gateway));
    assert.equal(skipped.gateway.attempts.length, 2, 'model-a skipped, model-b answered');
    const first = skipped.gateway.attempts[0] as { message?: string; tries?: number };
    assert.match(first.message ?? '', /half-open, (no probe permit in time|probe in flight)/);
  } finally {
    await harness.client.workflow.getHandle(workflowId).terminate('drill over');
  }
});

test('operators force a breaker that has continued as new since it first started (the admin API answered 500 WorkflowNotFound)', async () => {
  const workflowId = breakerWorkflowId('mock-local');
  await harness.client.workflow.getHandle(workflowId).terminate('replaced by a short-lived breaker').catch(() => undefined);
  // The same breaker as the gateway's, continuing as new after 40 events instead of 2,000.
  const started = await harness.client.workflow.start(providerBreakerWorkflow, {
    workflowId,
    taskQueue: harness.env.SWITCHYARD_TASK_QUEUE ?? '',
    args: [{ key: 'mock-local', settings: DEFAULT_BREAKER_SETTINGS, historyEventsLimit: 40 }],
  });
  const firstRun = (await started.describe()).runId;
  for (let index = 0; index < 30; index += 1) {
    await started.signal(breakerOutcomesSignal, { settings: DEFAULT_BREAKER_SETTINGS, outcomes: [{ modelId: 'model-c', ok: true, latencyMs: 10 }] });
  }
  const latest = harness.client.workflow.getHandle(workflowId);
  for (let round = 0; round < 100 && (await latest.describe()).runId === firstRun; round += 1) await sleep(100);
  assert.notEqual((await latest.describe()).runId, firstRun, 'a new run took over');
  try {
    const forced = await admin('POST', '/admin/breakers/mock-local', { mode: 'open', reason: 'drain after continue-as-new' });
    assert.equal(forced.status, 200, JSON.stringify(forced.body));
    assert.equal(forced.body.forced, 'open');
    const released = await admin('POST', '/admin/breakers/mock-local', { mode: 'auto', reason: 'drill over' });
    assert.equal(released.status, 200, JSON.stringify(released.body));
  } finally {
    await latest.terminate('drill over').catch(() => undefined);
  }
});
