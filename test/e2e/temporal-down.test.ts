// Temporal down through the real path, split mode (dev server, mock, API and
// worker as processes of their own): every route that needs Temporal answers
// 503 with Retry-After in its own error shape while the server is stopped,
// starts nothing, and the official client's own retries succeed once the
// server is back on the same port and database.
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import OpenAI from 'openai';
import { startDevServer, type DevServer } from '../../scripts/temporal-dev-server';
import { ADMIN_KEY, TENANT_KEY, startHarness, type Harness } from '../support/gateway-harness';
import { killAll, startEntryPoint } from '../support/processes';

let harness: Harness;
let apiUrl: string;
/** The dev server now serving the harness's port and database (a restart replaces it). */
let temporal: DevServer;
const children: ChildProcess[] = [];
let workerProcess: ChildProcess;
/** What happened, in order: Temporal stopping and coming back, and each answer. */
const events: string[] = [];
/** The API process's log lines. */
const apiLines: string[] = [];

const authorized = { authorization: `Bearer ${TENANT_KEY}`, 'content-type': 'application/json' };
const chatBody = { model: 'model-a', messages: [{ role: 'user' as const, content: 'hello while temporal is down' }] };

before(async () => {
  harness = await startHarness({ embeddedGateway: false });
  temporal = harness.devServer;
  const worker = await startEntryPoint('worker/main.ts', 'worker started', harness.env);
  children.push(worker.child);
  workerProcess = worker.child;
  const api = await startEntryPoint('api/main.ts', 'api listening', harness.env, (line) => apiLines.push(line));
  children.push(api.child);
  apiUrl = String(api.line.url);
});

after(async () => {
  killAll(children);
  if (temporal !== harness?.devServer) await temporal?.stop();
  await harness?.stop();
});

function temporalIsDown(): boolean {
  return temporal.process.exitCode !== null || temporal.process.signalCode !== null;
}

/** Runs `fn`, then brings Temporal back if `fn` left it down (a failed test must not fail the next one). */
async function thenBringTemporalBack(fn: () => Promise<void>): Promise<void> {
  try {
    await fn();
  } finally {
    if (temporalIsDown()) await restartTemporal();
  }
}

async function stopTemporal(): Promise<void> {
  await temporal.stop();
  events.push('temporal stopped');
}

/**
 * The dev server again, on the same port and database (`startDevServer`
 * resolves once it answers). A start that fails (the port not yet free, say)
 * is tried twice more.
 */
async function restartTemporal(): Promise<void> {
  const port = Number(harness.devServer.address.split(':').at(-1));
  const failures: string[] = [];
  for (let attempt = 1; attempt <= 3; attempt++) {
    try {
      temporal = await startDevServer({ port, dbFile: join(dirname(harness.configFile), 'temporal.db') });
      events.push('temporal back');
      return;
    } catch (error) {
      failures.push(`attempt ${attempt}: ${(error as Error).message}`);
      await sleep(1_000);
    }
  }
  assert.fail(`the dev server did not come back on port ${port}:\n${failures.join('\n')}`);
}

/** Asserts a 503 for Temporal with a small Retry-After, and returns its JSON body. */
async function expectTemporal503(label: string, response: Response): Promise<Record<string, unknown>> {
  const text = await response.text();
  assert.equal(response.status, 503, `${label}: ${response.status} ${text}`);
  const retryAfter = Number(response.headers.get('retry-after'));
  assert.ok(Number.isInteger(retryAfter) && retryAfter >= 1 && retryAfter <= 5, `${label}: Retry-After ${response.headers.get('retry-after')}`);
  events.push(`${label} 503`);
  return JSON.parse(text) as Record<string, unknown>;
}

/** Asserts the OpenAI error shape of a Temporal 503. */
function assertOpenAiShape(label: string, body: Record<string, unknown>): void {
  const error = body.error as { type?: unknown; code?: unknown; message?: unknown };
  assert.equal(error.type, 'service_unavailable', `${label}: ${JSON.stringify(body)}`);
  assert.equal(error.code, 'temporal_unavailable', `${label}: ${JSON.stringify(body)}`);
  assert.match(String(error.message), /Temporal/, label);
}

/** The workflow ids of the API's log lines about starts answered 503 whose message contains `what`. */
function lateStarts(what: string): string[] {
  return apiLines.flatMap((line) => {
    try {
      const parsed = JSON.parse(line) as { msg?: unknown; workflowId?: unknown };
      return typeof parsed.msg === 'string' && parsed.msg.includes(what) && typeof parsed.workflowId === 'string' ? [parsed.workflowId] : [];
    } catch {
      return [];
    }
  });
}

async function eventually(check: () => Promise<boolean>, what: string): Promise<void> {
  for (let round = 0; round < 600; round += 1) {
    if (await check().catch(() => false)) return;
    await sleep(100);
  }
  assert.fail(`gave up after a minute waiting until ${what}`);
}

test('while Temporal is down every route that needs it answers 503 with Retry-After in its own error shape, and starts nothing', () =>
  thenBringTemporalBack(async () => {
    await stopTemporal();

    const openai = new OpenAI({ baseURL: `${apiUrl}/v1`, apiKey: TENANT_KEY, maxRetries: 0, timeout: 60_000 });
    for (const [label, stream] of [['chat', false], ['chat stream', true]] as const) {
      const error = await openai.chat.completions.create({ ...chatBody, stream }).then(
        () => assert.fail(`${label}: answered although Temporal is down`),
        (failure: unknown) => failure,
      );
      assert.ok(error instanceof OpenAI.APIError, `${label}: ${String(error)}`);
      assert.equal(error.status, 503, `${label}: ${error.message}`);
      const retryAfter = Number(error.headers?.get('retry-after'));
      assert.ok(retryAfter >= 1 && retryAfter <= 5, `${label}: Retry-After ${error.headers?.get('retry-after')}`);
      assert.equal(error.type, 'service_unavailable');
      assert.equal(error.code, 'temporal_unavailable');
      events.push(`${label} 503`);
    }

    const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
      fetch(`${apiUrl}${path}`, { method: 'POST', headers: { ...authorized, ...headers }, body: JSON.stringify(body) });
    const get = (path: string) => fetch(`${apiUrl}${path}`, { headers: authorized });
    assertOpenAiShape('async chat', await expectTemporal503('async chat', await post('/v1/chat/completions', chatBody, { prefer: 'respond-async' })));
    assertOpenAiShape('request status', await expectTemporal503('request status', await get('/v1/requests/llm-alpha-0123456789abcdef')));
    assertOpenAiShape('batch list', await expectTemporal503('batch list', await get('/v1/batches')));
    assertOpenAiShape('agent run', await expectTemporal503('agent run', await post('/v1/agent/runs', chatBody)));

    const messages = await expectTemporal503('messages', await post('/v1/messages', { model: 'model-a', max_tokens: 64, messages: chatBody.messages }));
    assert.equal(messages.type, 'error', JSON.stringify(messages));
    const anthropicError = messages.error as { type?: unknown; message?: unknown };
    assert.equal(anthropicError.type, 'overloaded_error', JSON.stringify(messages));
    assert.match(String(anthropicError.message), /Temporal/);

    // Operators' reads of Temporal answer at once too, in the same shape.
    const admin = (path: string) => fetch(`${apiUrl}${path}`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } });
    for (const [label, path] of [['spend', '/v1/spend'], ['budgets', '/v1/budgets'], ['evals', '/v1/evals'], ['breakers', '/admin/breakers']] as const) {
      assertOpenAiShape(label, await expectTemporal503(label, await admin(path)));
    }

    const health = await fetch(`${apiUrl}/healthz`);
    const healthBody = (await health.json()) as { status?: unknown; temporal?: unknown };
    assert.notEqual(health.status, 200);
    assert.equal(healthBody.temporal, 'unreachable', JSON.stringify(healthBody));
    events.push('healthz unhealthy');

    // The worker is frozen while Temporal comes back, so what this test checks is the API's cancel of each late
    // start, not which of the two is faster: every start the API still watches ends (cancelled or never taken)
    // before the worker may run anything.
    workerProcess.kill('SIGSTOP');
    try {
      await restartTemporal();
      await eventually(async () => {
        const watched = lateStarts('watching it');
        const ended = [...lateStarts('cancelled'), ...lateStarts('never reached Temporal'), ...lateStarts('cancelling it failed')];
        return watched.every((workflowId) => ended.includes(workflowId));
      }, 'the API settled every start it answered 503 (cancelled, or never taken)');
    } finally {
      workerProcess.kill('SIGCONT');
    }
    // Every answer came while Temporal was down, not once it was back.
    assert.equal(events[0], 'temporal stopped');
    assert.equal(events.at(-1), 'temporal back');
    assert.equal(events.length, 14, events.join(', '));

    // Nothing was accepted: a start Core's client still delivered once the server was back was cancelled by the API.
    const query = `Tenant = 'alpha' AND ExecutionStatus = 'Running'`;
    await eventually(async () => (await harness.client.workflow.count(query)).count === 0, 'no workflow of the tenant runs');
    const ran = await harness.client.workflow.count(`Tenant = 'alpha' AND ExecutionStatus = 'Completed'`);
    assert.equal(ran.count, 0, `a request answered 503 ran to completion; the API logged:\n${apiLines.filter((line) => line.includes('503;')).join('\n')}`);
  }));

test("the official client's own retries ride out a Temporal restart: 503 with Retry-After, then 200", () =>
  thenBringTemporalBack(async () => {
    await stopTemporal();
    const statuses: number[] = [];
    let restarted = false;
    const recordingFetch = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
      const response = await fetch(input, init);
      statuses.push(response.status);
      // Temporal comes back only after the API answered 503, and before the client retries.
      if (response.status === 503 && !restarted) {
        restarted = true;
        await restartTemporal();
      }
      return response;
    };
    const openai = new OpenAI({ baseURL: `${apiUrl}/v1`, apiKey: TENANT_KEY, timeout: 60_000, fetch: recordingFetch });
    const completion = await openai.chat.completions.create(chatBody);
    assert.ok(completion.choices[0]?.message.content, JSON.stringify(completion));
    assert.equal(statuses[0], 503, `statuses: ${statuses.join(', ')}`);
    assert.equal(statuses.at(-1), 200, `statuses: ${statuses.join(', ')}`);
    assert.ok(
      statuses.slice(0, -1).every((status) => status === 503),
      `only 503s before the 200: ${statuses.join(', ')}`,
    );
  }));

test('a request Temporal took is never answered 503 when Temporal goes while it waits for the answer', async () => {
  // Every model hangs, so the request is still waiting for its answer when Temporal goes.
  for (const model of ['model-a', 'model-b', 'model-c']) await harness.setFault(model, { hang: true });
  try {
    const running = `WorkflowType = 'llmRequestWorkflow' AND ExecutionStatus = 'Running'`;
    const before = (await harness.client.workflow.count(running)).count;
    const answer = fetch(`${apiUrl}/v1/chat/completions`, { method: 'POST', headers: authorized, body: JSON.stringify(chatBody) });
    await eventually(async () => (await harness.client.workflow.count(running)).count > before, 'Temporal took the request');
    await stopTemporal();
    const response = await answer;
    events.push(`accepted ${response.status}`);
    assert.notEqual(response.status, 503, `a request Temporal took was answered 503: ${await response.text()}`);
    assert.ok(response.status >= 500, `status ${response.status}`);
    assert.equal(response.headers.get('retry-after'), null);
  } finally {
    if (temporalIsDown()) await restartTemporal();
    await harness.clearFaults();
  }
});
