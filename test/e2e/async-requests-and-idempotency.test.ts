// Asynchronous requests, cancellation, tenant isolation and idempotency keys,
// through the real path (HTTP → Temporal → worker → mock provider).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { OTHER_TENANT_KEY, TENANT_KEY, type Harness } from '../support/gateway-harness';
import { harnessPerFile } from '../support/harness-per-file';

let harness: Harness;

harnessPerFile((started) => (harness = started.harness));

/** The parts of the API's answers these tests read. */
interface Progress {
  phase: string;
  position: number;
  chainLength: number;
  current: { model: string; provider: string; streaming: boolean } | null;
  attempts: { model: string; outcome: string; failureType?: string }[];
}

interface ApiBody {
  id: string;
  status: string;
  progress?: Progress | null;
  error: { code: string };
  choices: unknown;
  result: {
    object: string;
    model: string;
    choices: { message: { content: string } }[];
    gateway: { attempts: { model: string; outcome: string }[] };
  };
}

const chatBody = (content: string) => ({ model: 'model-a', messages: [{ role: 'user', content }] });

async function call(method: string, path: string, options: { key?: string; body?: unknown; headers?: Record<string, string> } = {}) {
  const response = await fetch(`${harness.apiUrl}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${options.key ?? TENANT_KEY}`,
      ...(options.body === undefined ? {} : { 'content-type': 'application/json' }),
      ...options.headers,
    },
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
  });
  return { status: response.status, headers: response.headers, body: (await response.json()) as ApiBody };
}

async function pollUntilFinished(id: string, key = TENANT_KEY) {
  for (let tries = 0; tries < 600; tries++) {
    const { body } = await call('GET', `/v1/requests/${id}`, { key });
    if (body.status !== 'running') return body;
    await new Promise((wake) => setTimeout(wake, 100));
  }
  throw new Error(`request ${id} did not finish`);
}

test('Prefer: respond-async answers 202 with an id, and GET /v1/requests/:id gives the result with its attempt trail', async () => {
  await harness.setFault('model-a', { status: 503 });
  const accepted = await call('POST', '/v1/chat/completions', { body: chatBody('later please'), headers: { prefer: 'respond-async' } });
  assert.equal(accepted.status, 202);
  const id = accepted.body.id;
  assert.match(id, /^llm-alpha-/);
  assert.equal(accepted.headers.get('location'), `/v1/requests/${id}`);
  assert.ok(['running', 'completed'].includes(accepted.body.status));

  const finished = await pollUntilFinished(id);
  assert.equal(finished.status, 'completed');
  assert.equal(finished.result.object, 'chat.completion');
  assert.match(finished.result.choices[0]?.message.content ?? '', /later please/);
  assert.equal(finished.result.model, 'model-b');
  assert.deepEqual(
    finished.result.gateway.attempts.map((attempt) => [attempt.model, attempt.outcome]),
    [
      ['model-a', 'failed'],
      ['model-b', 'success'],
    ],
  );
});

test('DELETE /v1/requests/:id cancels a running request, and a finished one cannot be cancelled', async () => {
  for (const model of ['model-a', 'model-b', 'model-c']) await harness.setFault(model, { hang: true });
  const accepted = await call('POST', '/v1/chat/completions', { body: chatBody('never mind'), headers: { 'x-gateway-async': 'true' } });
  const id = accepted.body.id;
  assert.equal((await call('GET', `/v1/requests/${id}`)).body.status, 'running');

  const cancelled = await call('DELETE', `/v1/requests/${id}`);
  assert.equal(cancelled.status, 202);
  const finished = await pollUntilFinished(id);
  assert.equal(finished.status, 'cancelled');
  assert.equal((await call('DELETE', `/v1/requests/${id}`)).status, 409);
});

test('GET /v1/requests/:id shows a running request’s progress: the model being called and the attempts so far', async () => {
  await harness.setFault('model-a', { status: 401 });
  await harness.setFault('model-b', { hang: true });
  const accepted = await call('POST', '/v1/chat/completions', { body: chatBody('how far along?'), headers: { prefer: 'respond-async' } });
  const id = accepted.body.id;
  let progress: Progress | null | undefined;
  for (let round = 0; round < 600 && progress?.current?.model !== 'model-b'; round += 1) {
    const read = await call('GET', `/v1/requests/${id}`);
    assert.equal(read.body.status, 'running');
    progress = read.body.progress;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  assert.equal(progress?.phase, 'calling');
  assert.equal(progress?.position, 2);
  assert.equal(progress?.chainLength, 3);
  assert.deepEqual(progress?.current, { model: 'model-b', provider: 'mock-anthropic', streaming: false });
  assert.deepEqual(
    progress?.attempts.map(({ model, outcome, failureType }) => ({ model, outcome, failureType })),
    [{ model: 'model-a', outcome: 'failed', failureType: 'AccessDenied' }],
  );
  await call('DELETE', `/v1/requests/${id}`);
  assert.equal((await pollUntilFinished(id)).status, 'cancelled');
});

test('a tenant can neither read nor cancel another tenant’s request', async () => {
  const accepted = await call('POST', '/v1/chat/completions', { body: chatBody('mine'), headers: { prefer: 'respond-async' } });
  const id = accepted.body.id;
  const read = await call('GET', `/v1/requests/${id}`, { key: OTHER_TENANT_KEY });
  assert.equal(read.status, 404);
  assert.equal(read.body.error.code, 'request_not_found');
  assert.equal((await call('DELETE', `/v1/requests/${id}`, { key: OTHER_TENANT_KEY })).status, 404);
  assert.equal((await call('GET', '/v1/requests/llm-nothing-here')).status, 404);
  assert.equal((await pollUntilFinished(id)).status, 'completed');
});

test('a retried call with the same Idempotency-Key returns the same answer without a second provider call', async () => {
  const headers = { 'idempotency-key': 'order-42' };
  const first = await call('POST', '/v1/chat/completions', { body: chatBody('charge once'), headers });
  const second = await call('POST', '/v1/chat/completions', { body: chatBody('charge once'), headers });
  assert.equal(first.status, 200);
  assert.equal(second.status, 200);
  assert.equal(second.headers.get('x-gateway-workflow-id'), first.headers.get('x-gateway-workflow-id'));
  assert.deepEqual(second.body.choices, first.body.choices);
  assert.equal((await harness.calls())['model-a'], 1);
});

test('the same Idempotency-Key with a different body is refused with 422 and calls nothing', async () => {
  const headers = { 'idempotency-key': 'order-43' };
  assert.equal((await call('POST', '/v1/chat/completions', { body: chatBody('first body'), headers })).status, 200);
  const reused = await call('POST', '/v1/chat/completions', { body: chatBody('another body'), headers });
  assert.equal(reused.status, 422);
  assert.equal(reused.body.error.code, 'idempotency_key_reused');
  assert.equal((await harness.calls())['model-a'], 1);
});

test('the same Idempotency-Key with the same body but other routing headers is refused with 422 and calls nothing', async () => {
  const body = chatBody('same body, other routing');
  assert.equal((await call('POST', '/v1/chat/completions', { body, headers: { 'idempotency-key': 'order-44' } })).status, 200);
  const routings: Record<string, string>[] = [{ 'x-gateway-sensitivity': 'confidential' }, { 'x-gateway-task-class': 'summarize' }, { 'x-gateway-timeout-ms': '30000' }];
  for (const routing of routings) {
    const reused = await call('POST', '/v1/chat/completions', { body, headers: { 'idempotency-key': 'order-44', ...routing } });
    assert.equal(reused.status, 422, JSON.stringify(routing));
    assert.equal(reused.body.error.code, 'idempotency_key_reused');
  }
  // The same headers again are the same request: answered from the first run.
  const again = await call('POST', '/v1/chat/completions', { body, headers: { 'idempotency-key': 'order-44' } });
  assert.equal(again.status, 200);
  assert.deepEqual(await harness.calls(), { 'model-a': 1 });
});

test('the same Idempotency-Key from another tenant is a different request', async () => {
  const headers = { 'idempotency-key': 'shared-key' };
  const alpha = await call('POST', '/v1/chat/completions', { body: chatBody('alpha'), headers });
  const beta = await call('POST', '/v1/chat/completions', { body: chatBody('beta'), headers, key: OTHER_TENANT_KEY });
  assert.equal(beta.status, 200);
  assert.notEqual(beta.headers.get('x-gateway-workflow-id'), alpha.headers.get('x-gateway-workflow-id'));
});
