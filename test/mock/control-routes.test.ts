import assert from 'node:assert/strict';
import { after, before, beforeEach, test } from 'node:test';
import OpenAI from 'openai';
import Anthropic from '@anthropic-ai/sdk';
import { MockControlClient } from '../../mock/mock-control-client';
import { startMockProvider, type MockProvider } from '../../mock/mock-provider';

let mock: MockProvider;
let control: MockControlClient;
let openai: OpenAI;
let anthropic: Anthropic;

before(async () => {
  mock = await startMockProvider();
  control = new MockControlClient(mock.url);
  openai = new OpenAI({ baseURL: `${mock.url}/v1`, apiKey: 'test', maxRetries: 0 });
  anthropic = new Anthropic({ baseURL: mock.url, apiKey: 'test', maxRetries: 0 });
});
beforeEach(() => control.reset());
after(() => mock.close());

function askOpenAi(model: string): Promise<OpenAI.Chat.ChatCompletion> {
  return openai.chat.completions.create({ model, messages: [{ role: 'user', content: 'count me' }] });
}

test('every call to a model route counts against its model, in both dialects', async () => {
  await askOpenAi('counted-a');
  await askOpenAi('counted-a');
  await anthropic.messages.create({ model: 'counted-b', max_tokens: 5, messages: [{ role: 'user', content: 'hi' }] });
  assert.deepEqual(await control.calls(), { 'counted-a': 2, 'counted-b': 1 });
});

test('faulted and rejected calls count too, since a real provider would have received them', async () => {
  await control.setFault('counted-faulty', { status: 503, times: 1 });
  await assert.rejects(askOpenAi('counted-faulty'), OpenAI.InternalServerError);
  await askOpenAi('counted-faulty');
  await fetch(`${mock.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'counted-faulty', messages: [] }),
  });
  assert.equal(await control.callCount('counted-faulty'), 3);
});

test('the count of one model can be read on its own', async () => {
  await askOpenAi('counted-single');
  const response = await fetch(`${mock.url}/_control/calls/counted-single`);
  assert.deepEqual(await response.json(), { model: 'counted-single', calls: 1 });
});

test('resetting the counts starts every model from zero', async () => {
  await askOpenAi('counted-reset');
  await control.resetCalls();
  assert.deepEqual(await control.calls(), {});
  await askOpenAi('counted-reset');
  assert.deepEqual(await control.calls(), { 'counted-reset': 1 });
});

test('the fault list shows each fault by model and forgets cleared ones', async () => {
  await control.setFault('listed-a', { status: 429, retryAfterSeconds: 1 });
  await control.setFault('listed-b', { latencyMs: 5, times: 4 });
  assert.deepEqual(await control.listFaults(), {
    'listed-a': { status: 429, retryAfterSeconds: 1 },
    'listed-b': { latencyMs: 5, times: 4 },
  });
  await control.clearFaults();
  assert.deepEqual(await control.listFaults(), {});
});

test('a full reset clears faults, counts and the models seen', async () => {
  await control.setFault('seen-then-forgotten', { latencyMs: 1 });
  await askOpenAi('seen-then-forgotten');
  await control.reset();
  assert.deepEqual(await control.listFaults(), {});
  assert.deepEqual(await control.calls(), {});
  const ids = (await openai.models.list()).data.map((model) => model.id);
  assert.ok(!ids.includes('seen-then-forgotten'));
});

test('an invalid fault body is rejected with 400 and nothing is set', async () => {
  const bodies: unknown[] = [
    { status: 200 },
    { status: 503, typo: true },
    { status: 503, hang: true },
    { retryAfterSeconds: 2 },
    { times: 3 },
    { latencyMs: -1 },
    [503],
  ];
  for (const body of bodies) {
    const response = await fetch(`${mock.url}/_control/faults/fault-invalid`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    assert.equal(response.status, 400, `expected 400 for ${JSON.stringify(body)}`);
    const answer = (await response.json()) as { error: { message: string } };
    assert.match(answer.error.message, /invalid fault/);
  }
  assert.deepEqual(await control.listFaults(), {});
});

test('a fault body that is not JSON is rejected with a JSON 400', async () => {
  const response = await fetch(`${mock.url}/_control/faults/fault-invalid`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: '{"status":',
  });
  assert.equal(response.status, 400);
  const answer = (await response.json()) as { error: { message: string } };
  assert.equal(typeof answer.error.message, 'string');
});

test('the bodies a model received can be read back, and a reset forgets them', async () => {
  await askOpenAi('recorded');
  await anthropic.messages.create({ model: 'recorded', max_tokens: 5, messages: [{ role: 'user', content: 'second' }] });
  const bodies = (await control.receivedRequests('recorded')) as { messages: { content: unknown }[] }[];
  assert.equal(bodies.length, 2);
  assert.equal(bodies[0]?.messages[0]?.content, 'count me');
  assert.equal(bodies[1]?.messages[0]?.content, 'second');
  assert.deepEqual(await control.receivedRequests('never-called'), []);
  await control.resetCalls();
  assert.deepEqual(await control.receivedRequests('recorded'), []);
});
