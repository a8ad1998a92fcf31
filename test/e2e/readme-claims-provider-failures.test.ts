// README, "Failure handling": a prompt over the window (`ContextTooLong`), a
// safety block (`ContentRefused`) and a malformed provider body
// (`ProviderUnavailable`) end to end, with the official `openai` client
// against the gateway and the mock provider over HTTP in both dialects
// (model-a speaks OpenAI, model-b Anthropic).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type OpenAI from 'openai';
import { TEST_RETRY, type Harness } from '../support/gateway-harness';
import { harnessPerFile } from '../support/harness-per-file';

let harness: Harness;
let openai: OpenAI;

interface Attempt {
  model: string;
  outcome: string;
  failureType?: string;
  tries: number;
}
type Completion = OpenAI.Chat.ChatCompletion & { gateway: { outcome: string; attempts: Attempt[] } };

harnessPerFile((started) => ({ harness, openai } = started));

async function ask(content: string, model = 'model-a'): Promise<{ completion: Completion; response: Response }> {
  const { data, response } = await openai.chat.completions.create({ model, messages: [{ role: 'user', content }] }).withResponse();
  return { completion: data as Completion, response };
}

const trail = (completion: Completion) => completion.gateway.attempts.map(({ model, outcome, failureType, tries }) => ({ model, outcome, failureType, tries }));

test('a provider saying the prompt is over its context window (OpenAI dialect) is ContextTooLong: no retry, the next model answers', async () => {
  // The mock's own context-length wording.
  await harness.setFault('model-a', {
    status: 400,
    message: "This model's maximum context length is 50000 tokens. However, your messages resulted in 61234 tokens. Please reduce the length of the messages.",
  });
  const { completion, response } = await ask('a prompt the first model finds too long');
  assert.equal(response.headers.get('x-gateway-model'), 'model-b');
  assert.equal(response.headers.get('x-gateway-fallbacks'), '1');
  assert.match(completion.choices[0]?.message.content ?? '', /a prompt the first model finds too long/);
  assert.deepEqual(trail(completion), [
    { model: 'model-a', outcome: 'failed', failureType: 'ContextTooLong', tries: 1 },
    { model: 'model-b', outcome: 'success', failureType: undefined, tries: 1 },
  ]);
  assert.deepEqual(await harness.calls(), { 'model-a': 1, 'model-b': 1 });
});

test('a prompt over every provider’s real window falls over model by model, each tried once, to the deterministic answer', async () => {
  // Over the mock's 200,000-character window, under the gateway's configured windows of model-a and model-b
  // (model-c's 32,000-token window is too small, so routing never sends it there).
  const prompt = `Summarize this: ${'the quick brown fox jumps over the lazy dog. '.repeat(4_700)}`;
  const { completion, response } = await ask(prompt);
  assert.equal(response.headers.get('x-gateway-outcome'), 'fallback_answer');
  assert.equal(completion.choices[0]?.message.content, 'deterministic fallback answer');
  assert.deepEqual(trail(completion), [
    { model: 'model-a', outcome: 'failed', failureType: 'ContextTooLong', tries: 1 },
    { model: 'model-b', outcome: 'failed', failureType: 'ContextTooLong', tries: 1 },
  ]);
  assert.deepEqual(await harness.calls(), { 'model-a': 1, 'model-b': 1 });
});

test('a safety block is ContentRefused in either dialect: no retry, the next model answers', async () => {
  await harness.setFault('model-a', { status: 400, message: 'Your request was rejected as a result of our safety system.' });
  await harness.setFault('model-b', { status: 400, message: 'Output blocked by content filtering policy' });
  const { completion, response } = await ask('something a filter dislikes');
  assert.equal(response.headers.get('x-gateway-model'), 'model-c');
  assert.equal(response.headers.get('x-gateway-outcome'), 'success');
  assert.match(completion.choices[0]?.message.content ?? '', /something a filter dislikes/);
  assert.deepEqual(trail(completion), [
    { model: 'model-a', outcome: 'failed', failureType: 'ContentRefused', tries: 1 },
    { model: 'model-b', outcome: 'failed', failureType: 'ContentRefused', tries: 1 },
    { model: 'model-c', outcome: 'success', failureType: undefined, tries: 1 },
  ]);
});

test('a body that is not JSON is ProviderUnavailable: retried up to maximumAttempts, then the next model answers', async () => {
  await harness.setFault('model-a', { malformed: 'invalid-json' });
  const { completion, response } = await ask('garbled reply from the first model');
  assert.equal(response.headers.get('x-gateway-model'), 'model-b');
  assert.match(completion.choices[0]?.message.content ?? '', /garbled reply from the first model/);
  assert.deepEqual(trail(completion), [
    { model: 'model-a', outcome: 'failed', failureType: 'ProviderUnavailable', tries: TEST_RETRY.maximumAttempts },
    { model: 'model-b', outcome: 'success', failureType: undefined, tries: 1 },
  ]);
  assert.equal((await harness.calls())['model-a'], TEST_RETRY.maximumAttempts);
});

test('JSON of the wrong shape is ProviderUnavailable in either dialect, then the next model answers', async () => {
  await harness.setFault('model-a', { malformed: 'wrong-shape' });
  await harness.setFault('model-b', { malformed: 'wrong-shape' });
  const { completion, response } = await ask('well-formed nonsense');
  assert.equal(response.headers.get('x-gateway-model'), 'model-c');
  assert.match(completion.choices[0]?.message.content ?? '', /well-formed nonsense/);
  assert.deepEqual(trail(completion), [
    { model: 'model-a', outcome: 'failed', failureType: 'ProviderUnavailable', tries: TEST_RETRY.maximumAttempts },
    { model: 'model-b', outcome: 'failed', failureType: 'ProviderUnavailable', tries: TEST_RETRY.maximumAttempts },
    { model: 'model-c', outcome: 'success', failureType: undefined, tries: 1 },
  ]);
});

test('a malformed body once is retried on the same model, which then answers', async () => {
  await harness.setFault('model-b', { malformed: 'invalid-json', times: 1 });
  const { completion, response } = await ask('second time lucky', 'model-b');
  assert.equal(response.headers.get('x-gateway-model'), 'model-b');
  assert.equal(response.headers.get('x-gateway-fallbacks'), '0');
  assert.match(completion.choices[0]?.message.content ?? '', /second time lucky/);
  assert.deepEqual(trail(completion), [{ model: 'model-b', outcome: 'success', failureType: undefined, tries: 2 }]);
});
