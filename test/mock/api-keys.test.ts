import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { maskKey } from '../../mock/api-keys';
import { MockControlClient } from '../../mock/mock-control-client';
import { startMockProvider, type MockProvider } from '../../mock/mock-provider';

const OPENAI_KEY = 'sk-openai-right-key-0001';
const ANTHROPIC_KEY = 'sk-ant-right-key-0002';
const WRONG_KEY = 'sk-wrong-key-9999';

let mock: MockProvider;

before(async () => {
  mock = await startMockProvider({ apiKeys: { openai: [OPENAI_KEY], anthropic: [ANTHROPIC_KEY] } });
});
after(() => mock.close());

function chatCompletion(headers: Record<string, string>): Promise<Response> {
  return fetch(`${mock.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ model: 'gpt-keyed', messages: [{ role: 'user', content: 'hi' }] }),
  });
}

function message(headers: Record<string, string>): Promise<Response> {
  return fetch(`${mock.url}/v1/messages`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ model: 'claude-keyed', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] }),
  });
}

test('the OpenAI dialect answers the key it was given', async () => {
  const response = await chatCompletion({ authorization: `Bearer ${OPENAI_KEY}` });
  assert.equal(response.status, 200);
});

test('a wrong OpenAI key is a 401 in OpenAI’s invalid_api_key shape, the key masked', async () => {
  const response = await chatCompletion({ authorization: `Bearer ${WRONG_KEY}` });
  assert.equal(response.status, 401);
  assert.deepEqual(await response.json(), {
    error: {
      message: `Incorrect API key provided: ${maskKey(WRONG_KEY)}. You can find your API key at https://platform.openai.com/account/api-keys.`,
      type: 'invalid_request_error',
      param: null,
      code: 'invalid_api_key',
    },
  });
  assert.equal(maskKey(WRONG_KEY), 'sk-**********9999');
});

test('the Anthropic key does not open the OpenAI dialect, nor the other way round', async () => {
  assert.equal((await chatCompletion({ authorization: `Bearer ${ANTHROPIC_KEY}` })).status, 401);
  assert.equal((await message({ 'x-api-key': OPENAI_KEY })).status, 401);
});

test('a missing OpenAI key is a 401 missing_api_key', async () => {
  const response = await chatCompletion({});
  assert.equal(response.status, 401);
  const body = (await response.json()) as { error: { type: string; code: string } };
  assert.deepEqual([body.error.type, body.error.code], ['invalid_request_error', 'missing_api_key']);
});

test('the Anthropic dialect reads x-api-key and answers the key it was given', async () => {
  const response = await message({ 'x-api-key': ANTHROPIC_KEY });
  assert.equal(response.status, 200);
});

test('a wrong x-api-key is a 401 in Anthropic’s authentication_error shape', async () => {
  const response = await message({ 'x-api-key': WRONG_KEY });
  assert.equal(response.status, 401);
  const body = (await response.json()) as Record<string, unknown>;
  assert.deepEqual({ type: body.type, error: body.error }, { type: 'error', error: { type: 'authentication_error', message: 'invalid x-api-key' } });
  assert.match(String(body.request_id), /^req_/);
  assert.equal(response.headers.get('request-id'), body.request_id);
});

test('the SDKs see a wrong key as their AuthenticationError, in both dialects', async () => {
  const openai = new OpenAI({ baseURL: `${mock.url}/v1`, apiKey: WRONG_KEY, maxRetries: 0 });
  await assert.rejects(openai.chat.completions.create({ model: 'gpt-keyed', messages: [{ role: 'user', content: 'hi' }] }), OpenAI.AuthenticationError);
  const anthropic = new Anthropic({ baseURL: mock.url, apiKey: WRONG_KEY, maxRetries: 0 });
  await assert.rejects(anthropic.messages.create({ model: 'claude-keyed', max_tokens: 5, messages: [{ role: 'user', content: 'hi' }] }), Anthropic.AuthenticationError);
});

test('a refused call still counts against its model, as a real provider would have received it', async () => {
  mock.state.resetCalls();
  await chatCompletion({ authorization: `Bearer ${WRONG_KEY}` });
  assert.equal(mock.state.callCount('gpt-keyed'), 1);
});

test('the control API replaces the keys, a reset keeps them, and a dialect left out accepts any key', async () => {
  const control = new MockControlClient(mock.url);
  await control.setApiKeys({ openai: ['sk-rotated-key-0003'] });
  await control.reset();
  assert.equal((await chatCompletion({ authorization: `Bearer ${OPENAI_KEY}` })).status, 401);
  assert.equal((await chatCompletion({ authorization: 'Bearer sk-rotated-key-0003' })).status, 200);
  assert.equal((await message({ 'x-api-key': 'anything-goes' })).status, 200);
  await assert.rejects(control.setApiKeys({ openai: [''] }), /failed with 400/);
  await control.setApiKeys({ openai: [OPENAI_KEY], anthropic: [ANTHROPIC_KEY] });
});
