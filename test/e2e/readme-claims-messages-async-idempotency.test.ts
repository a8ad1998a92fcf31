// README, API table: `POST /v1/messages` has the "same routing, fallback,
// headers, async and idempotency" as `/v1/chat/completions`. Driven with the
// official `@anthropic-ai/sdk` through the real path (HTTP → Temporal →
// worker → mock provider).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import Anthropic from '@anthropic-ai/sdk';
import { OTHER_TENANT_KEY, TENANT_KEY, type Harness } from '../support/gateway-harness';
import { harnessPerFile } from '../support/harness-per-file';

let harness: Harness;
let anthropic: Anthropic;

harnessPerFile((started) => {
  harness = started.harness;
  anthropic = new Anthropic({ baseURL: harness.apiUrl, apiKey: TENANT_KEY, maxRetries: 0, timeout: 60_000 });
});

const message = (content: string): Anthropic.MessageCreateParamsNonStreaming => ({
  model: 'model-a',
  max_tokens: 200,
  messages: [{ role: 'user', content }],
});

/** What `POST /v1/messages` answers when asked to answer later. */
interface Accepted {
  id: string;
  status: string;
}

interface RequestStatus {
  status: string;
  result?: { model: string; choices: { message: { content: string } }[]; gateway: { attempts: { model: string; outcome: string }[] } };
}

async function readRequest(id: string, key = TENANT_KEY): Promise<{ status: number; body: RequestStatus }> {
  const response = await fetch(`${harness.apiUrl}/v1/requests/${id}`, { headers: { authorization: `Bearer ${key}` } });
  return { status: response.status, body: (await response.json()) as RequestStatus };
}

async function untilFinished(id: string): Promise<RequestStatus> {
  for (let round = 0; round < 600; round += 1) {
    const { body } = await readRequest(id);
    if (body.status !== 'running') return body;
    await sleep(100);
  }
  assert.fail(`request ${id} was still running after 600 polls`);
}

test('a message sent with Prefer: respond-async is accepted with 202 and its answer is read by id', async () => {
  await harness.setFault('model-a', { status: 503 });
  const { data, response } = await anthropic.messages
    .create(message('answer me later'), { headers: { prefer: 'respond-async' } })
    .withResponse();
  assert.equal(response.status, 202);
  const accepted = data as unknown as Accepted;
  assert.match(accepted.id, /^llm-alpha-/);
  assert.equal(response.headers.get('location'), `/v1/requests/${accepted.id}`);
  assert.equal(response.headers.get('x-gateway-workflow-id'), accepted.id);

  const finished = await untilFinished(accepted.id);
  assert.equal(finished.status, 'completed');
  assert.match(finished.result?.choices[0]?.message.content ?? '', /answer me later/);
  // Same fallback as a synchronous call: model-a is down, model-b answers.
  assert.equal(finished.result?.model, 'model-b');
  assert.deepEqual(
    finished.result?.gateway.attempts.map((attempt) => [attempt.model, attempt.outcome]),
    [
      ['model-a', 'failed'],
      ['model-b', 'success'],
    ],
  );
  assert.equal((await readRequest(accepted.id, OTHER_TENANT_KEY)).status, 404, 'another tenant cannot read it');
});

test('x-gateway-async: true on /v1/messages also answers 202', async () => {
  const { data, response } = await anthropic.messages.create(message('flag async'), { headers: { 'x-gateway-async': 'true' } }).withResponse();
  assert.equal(response.status, 202);
  assert.equal((await untilFinished((data as unknown as Accepted).id)).status, 'completed');
});

test('a retried message with the same Idempotency-Key gets the same answer without a second provider call', async () => {
  const headers = { 'idempotency-key': 'messages-order-1' };
  const first = await anthropic.messages.create(message('bill me once'), { headers }).withResponse();
  const second = await anthropic.messages.create(message('bill me once'), { headers }).withResponse();
  assert.equal(second.response.headers.get('x-gateway-workflow-id'), first.response.headers.get('x-gateway-workflow-id'));
  assert.equal(second.data.id, first.data.id);
  assert.deepEqual(second.data.content, first.data.content);
  const text = first.data.content[0];
  assert.ok(text?.type === 'text');
  assert.match(text.text, /bill me once/);
  assert.deepEqual(await harness.calls(), { 'model-a': 1 });
});

test('an async message retried with its Idempotency-Key attaches to the first run', async () => {
  const headers = { 'idempotency-key': 'messages-order-2', prefer: 'respond-async' };
  const first = await anthropic.messages.create(message('async once'), { headers }).withResponse();
  const second = await anthropic.messages.create(message('async once'), { headers }).withResponse();
  assert.equal(first.response.status, 202);
  assert.equal(second.response.status, 202);
  const id = (first.data as unknown as Accepted).id;
  assert.equal((second.data as unknown as Accepted).id, id);
  assert.equal((await untilFinished(id)).status, 'completed');
  assert.deepEqual(await harness.calls(), { 'model-a': 1 });
});

test('the same Idempotency-Key with another message is refused with 422 in Anthropic’s error body, and calls nothing', async () => {
  const headers = { 'idempotency-key': 'messages-order-3' };
  await anthropic.messages.create(message('the first body'), { headers });
  await harness.resetCalls();
  await assert.rejects(anthropic.messages.create(message('a different body'), { headers }), (error: unknown) => {
    assert.ok(error instanceof Anthropic.UnprocessableEntityError, String(error));
    const body = error.error as { type: string; error: { type: string; message: string } };
    assert.equal(body.type, 'error');
    assert.equal(body.error.type, 'invalid_request_error');
    assert.match(body.error.message, /Idempotency-Key was already used with a different request body/);
    return true;
  });
  assert.deepEqual(await harness.calls(), {});
});
