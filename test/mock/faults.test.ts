import assert from 'node:assert/strict';
import { after, afterEach, before, test } from 'node:test';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { MockControlClient } from '../../mock/mock-control-client';
import { startMockProvider, type MockProvider } from '../../mock/mock-provider';
import type { CallTiming } from '../../mock/mock-state';
import { ManualClock } from '../support/manual-clock';

// The mock's delays run on this clock: a test moves it on and reads what the mock did meanwhile.
const clock = new ManualClock();
let mock: MockProvider;
let control: MockControlClient;
let openai: OpenAI;
let anthropic: Anthropic;

before(async () => {
  mock = await startMockProvider({ clock });
  control = new MockControlClient(mock.url);
  openai = new OpenAI({ baseURL: `${mock.url}/v1`, apiKey: 'test', maxRetries: 0 });
  anthropic = new Anthropic({ baseURL: mock.url, apiKey: 'test', maxRetries: 0 });
});
afterEach(() => control.clearFaults());
after(() => mock.close());

function askOpenAi(model: string, client: OpenAI = openai): Promise<OpenAI.Chat.ChatCompletion> {
  return client.chat.completions.create({ model, messages: [{ role: 'user', content: 'hello there' }] });
}

function askAnthropic(model: string, client: Anthropic = anthropic): Promise<Anthropic.Message> {
  return client.messages.create({ model, max_tokens: 50, messages: [{ role: 'user', content: 'hello there' }] });
}

async function drainOpenAiStream(model: string, client: OpenAI = openai): Promise<string> {
  const stream = await client.chat.completions.create({
    model,
    stream: true,
    messages: [{ role: 'user', content: 'one two three four five six' }],
  });
  let text = '';
  for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
  return text;
}

async function drainAnthropicStream(model: string, client: Anthropic = anthropic): Promise<string> {
  const stream = await client.messages.create({
    model,
    max_tokens: 50,
    stream: true,
    messages: [{ role: 'user', content: 'one two three four five six' }],
  });
  let text = '';
  for await (const event of stream) {
    if (event.type === 'content_block_delta' && event.delta.type === 'text_delta') text += event.delta.text;
  }
  return text;
}

test('a 503 fault is an OpenAI InternalServerError with a server_error body', async () => {
  await control.setFault('fault-503', { status: 503 });
  await assert.rejects(askOpenAi('fault-503'), (error: unknown) => {
    assert.ok(error instanceof OpenAI.InternalServerError);
    assert.equal(error.status, 503);
    assert.equal(error.type, 'server_error');
    return true;
  });
});

test('a 503 fault is an Anthropic APIError with status 503 and an api_error body', async () => {
  await control.setFault('fault-503', { status: 503 });
  await assert.rejects(askAnthropic('fault-503'), (error: unknown) => {
    assert.ok(error instanceof Anthropic.InternalServerError);
    assert.equal(error.status, 503);
    assert.equal(error.type, 'api_error');
    return true;
  });
});

test('a 429 fault is a RateLimitError whose headers carry retry-after', async () => {
  await control.setFault('fault-429', { status: 429, retryAfterSeconds: 2 });
  await assert.rejects(askOpenAi('fault-429'), (error: unknown) => {
    assert.ok(error instanceof OpenAI.RateLimitError);
    assert.equal(error.code, 'rate_limit_exceeded');
    assert.equal(error.headers?.get('retry-after'), '2');
    return true;
  });
  await assert.rejects(askAnthropic('fault-429'), (error: unknown) => {
    assert.ok(error instanceof Anthropic.RateLimitError);
    assert.equal(error.type, 'rate_limit_error');
    assert.equal(error.headers?.get('retry-after'), '2');
    return true;
  });
});

test('a 401 fault is an AuthenticationError in both dialects', async () => {
  await control.setFault('fault-401', { status: 401 });
  await assert.rejects(askOpenAi('fault-401'), (error: unknown) => {
    assert.ok(error instanceof OpenAI.AuthenticationError);
    assert.equal(error.code, 'invalid_api_key');
    return true;
  });
  await assert.rejects(askAnthropic('fault-401'), (error: unknown) => {
    assert.ok(error instanceof Anthropic.AuthenticationError);
    assert.equal(error.type, 'authentication_error');
    return true;
  });
});

test('a 404 fault looks like the vendor saying the model does not exist', async () => {
  await control.setFault('fault-404', { status: 404 });
  await assert.rejects(askOpenAi('fault-404'), (error: unknown) => {
    assert.ok(error instanceof OpenAI.NotFoundError);
    assert.equal(error.code, 'model_not_found');
    assert.match(error.message, /fault-404/);
    return true;
  });
  await assert.rejects(askAnthropic('fault-404'), (error: unknown) => {
    assert.ok(error instanceof Anthropic.NotFoundError);
    assert.equal(error.type, 'not_found_error');
    assert.match(error.message, /model: fault-404/);
    return true;
  });
});

test('a 529 fault is Anthropic overloaded_error', async () => {
  await control.setFault('fault-529', { status: 529, message: 'Overloaded right now' });
  await assert.rejects(askAnthropic('fault-529'), (error: unknown) => {
    assert.ok(error instanceof Anthropic.APIError);
    assert.equal(error.status, 529);
    assert.equal(error.type, 'overloaded_error');
    assert.equal(error.apiMessage, 'Overloaded right now');
    return true;
  });
});

test('a hang fault never answers, so the client times out', async () => {
  await control.setFault('fault-hang', { hang: true });
  const impatientOpenAi = openai.withOptions({ timeout: 200 });
  await assert.rejects(askOpenAi('fault-hang', impatientOpenAi), OpenAI.APIConnectionTimeoutError);
  const impatientAnthropic = anthropic.withOptions({ timeout: 200 });
  await assert.rejects(askAnthropic('fault-hang', impatientAnthropic), Anthropic.APIConnectionTimeoutError);
});

/** The mock's record of its last call to `model`. */
function lastTiming(model: string): CallTiming {
  const timing = mock.state.callTimings(model).at(-1);
  assert.ok(timing, `the mock recorded a call to ${model}`);
  return timing;
}

test('a latency fault holds the answer until its latency has passed, then answers normally', async () => {
  await control.setFault('fault-latency', { latencyMs: 30, jitterMs: 20 });
  const dialects: [string, () => Promise<unknown>, unknown][] = [
    ['OpenAI', async () => (await askOpenAi('fault-latency')).choices[0]?.message.content, '[fault-latency] hello there'],
    ['Anthropic', async () => (await askAnthropic('fault-latency')).content, [{ type: 'text', text: '[fault-latency] hello there' }]],
  ];
  for (const [dialect, ask, expected] of dialects) {
    const answer = ask();
    // The mock asks its clock for the latency before it answers; the clock moves only when the test moves it.
    const wait = await clock.nextTimer(`the ${dialect} latency`);
    assert.ok(wait.ms >= 30 && wait.ms <= 50, `latency ${wait.ms} ms is 30 ms plus a jitter of at most 20`);
    assert.equal(lastTiming('fault-latency').answeredAt, undefined, `${dialect}: no answer while the latency runs`);
    clock.advance(wait.ms);
    assert.deepEqual(await answer, expected);
    const timing = lastTiming('fault-latency');
    assert.equal(timing.receivedAt, wait.setAt, 'the wait began as the call arrived');
    assert.equal(timing.answeredAt, wait.due, `${dialect}: the answer began once the latency had passed, not before`);
  }
});

test('latency combined with a status answers with that status after the delay', async () => {
  await control.setFault('fault-slow-503', { latencyMs: 20, status: 503 });
  const { fired } = await clock.runUntil(assert.rejects(askOpenAi('fault-slow-503'), OpenAI.InternalServerError), 'the slow 503');
  assert.deepEqual(fired.map((timer) => timer.ms), [20]);
  const timing = lastTiming('fault-slow-503');
  assert.equal(timing.answeredAt, timing.receivedAt + 20, 'the error was sent once the latency had passed');
});

test('a first-token delay comes before the first event; chunk delays between the others', async () => {
  await control.setFault('fault-first-token', { firstTokenDelayMs: 30, chunkDelayMs: 1 });
  for (const drain of [drainOpenAiStream, drainAnthropicStream]) {
    const { value, fired } = await clock.runUntil(drain('fault-first-token'), 'the stream');
    assert.equal(value, '[fault-first-token] one two three four five six');
    assert.equal(fired[0]?.ms, 30, 'the first wait is the first-token delay');
    assert.ok(fired.length > 2 && fired.slice(1).every((timer) => timer.ms === 1), `then 1 ms between events: ${fired.map((timer) => timer.ms).join(', ')}`);
    const timing = lastTiming('fault-first-token');
    assert.equal(timing.answeredAt, timing.receivedAt + 30, 'the first event went out after the first-token delay');
  }
  const { value: completion, fired } = await clock.runUntil(askOpenAi('fault-first-token'), 'the reply');
  assert.equal(completion.choices[0]?.message.content, '[fault-first-token] hello there');
  assert.deepEqual(fired.map((timer) => timer.ms), [30], 'a non-streaming reply waits the first-token delay once');
  assert.equal(lastTiming('fault-first-token').answeredAt, lastTiming('fault-first-token').receivedAt + 30);
});

test('a malformed fault answers 200 with a body the SDKs cannot parse', async () => {
  await control.setFault('fault-malformed', { malformed: true });
  // The SDKs log unparsable stream events before throwing; keep the test output clean.
  const quietOpenAi = openai.withOptions({ logLevel: 'off' });
  const quietAnthropic = anthropic.withOptions({ logLevel: 'off' });
  await assert.rejects(askOpenAi('fault-malformed', quietOpenAi), SyntaxError);
  await assert.rejects(askAnthropic('fault-malformed', quietAnthropic), SyntaxError);
  await assert.rejects(drainOpenAiStream('fault-malformed', quietOpenAi), SyntaxError);
  await assert.rejects(drainAnthropicStream('fault-malformed', quietAnthropic), SyntaxError);
});

test('a wrong-shape malformed fault answers valid JSON without the expected fields', async () => {
  await control.setFault('fault-shape', { malformed: 'wrong-shape' });
  const completion = await askOpenAi('fault-shape');
  assert.equal(completion.choices, undefined);
});

test('cutting a stream after some chunks surfaces an error in both SDK streams', async () => {
  await control.setFault('fault-cut', { cutStreamAfterChunks: 3 });
  let received = 0;
  const stream = await openai.chat.completions.create({
    model: 'fault-cut',
    stream: true,
    messages: [{ role: 'user', content: 'one two three four five six' }],
  });
  await assert.rejects(async () => {
    for await (const chunk of stream) {
      assert.ok(chunk.object === 'chat.completion.chunk');
      received += 1;
    }
  });
  assert.equal(received, 3);
  await assert.rejects(drainAnthropicStream('fault-cut'));
  await assert.rejects(
    anthropic.messages
      .stream({ model: 'fault-cut', max_tokens: 50, messages: [{ role: 'user', content: 'hi' }] })
      .finalMessage(),
  );
});

test('cutting a non-streaming call drops the connection', async () => {
  await control.setFault('fault-cut', { cutStreamAfterChunks: 0 });
  await assert.rejects(askOpenAi('fault-cut'), OpenAI.APIConnectionError);
  await assert.rejects(askAnthropic('fault-cut'), Anthropic.APIConnectionError);
});

test('a fault with times applies to that many calls and then clears itself', async () => {
  await control.setFault('fault-times', { status: 500, times: 2 });
  await assert.rejects(askOpenAi('fault-times'), OpenAI.InternalServerError);
  assert.deepEqual(await control.listFaults(), { 'fault-times': { status: 500, times: 1 } });
  await assert.rejects(askAnthropic('fault-times'), Anthropic.InternalServerError);
  assert.deepEqual(await control.listFaults(), {});
  const completion = await askOpenAi('fault-times');
  assert.equal(completion.choices[0]?.message.content, '[fault-times] hello there');
});

test('a wildcard fault applies to every model without a fault of its own', async () => {
  await control.setFault('*', { status: 503 });
  await control.setFault('fault-own', { status: 429 });
  await assert.rejects(askOpenAi('any-model-at-all'), OpenAI.InternalServerError);
  await assert.rejects(askOpenAi('fault-own'), OpenAI.RateLimitError);
});

test('a model name with a slash can carry a fault when URL-encoded', async () => {
  await control.setFault('meta/llama-mock', { status: 503 });
  await assert.rejects(askOpenAi('meta/llama-mock'), OpenAI.InternalServerError);
});

test('a cleared fault no longer applies', async () => {
  await control.setFault('fault-cleared', { status: 503 });
  assert.equal(await control.clearFault('fault-cleared'), true);
  assert.equal(await control.clearFault('fault-cleared'), false);
  const completion = await askOpenAi('fault-cleared');
  assert.equal(completion.choices[0]?.message.content, '[fault-cleared] hello there');
});

test('a held stream delivers its first chunks, waits for release, then finishes', async () => {
  await control.setFault('fault-hold', { holdStreamAfterChunks: 2, times: 1 });
  const stream = await openai.chat.completions.create({
    model: 'fault-hold',
    stream: true,
    messages: [{ role: 'user', content: 'one two three four five six' }],
  });
  const chunks = stream[Symbol.asyncIterator]();
  const first = await chunks.next();
  const second = await chunks.next();
  assert.equal(first.done, false);
  assert.equal(second.done, false);
  // The third chunk waits for the release.
  const third = chunks.next();
  while ((await control.heldStreams()) === 0) await new Promise((resolve) => setTimeout(resolve, 20));
  assert.equal(await control.releaseStreams(), 1);
  let text = second.value?.choices[0]?.delta.content ?? '';
  let result = await third;
  while (!result.done) {
    text += result.value.choices[0]?.delta.content ?? '';
    result = await chunks.next();
  }
  assert.ok(text.length > 0);
  assert.equal(await control.heldStreams(), 0);
});

test('a held stream whose client leaves is forgotten', async () => {
  await control.setFault('fault-hold', { holdStreamAfterChunks: 1, times: 1 });
  const abort = new AbortController();
  const stream = await openai.chat.completions.create(
    { model: 'fault-hold', stream: true, messages: [{ role: 'user', content: 'hello' }] },
    { signal: abort.signal },
  );
  const chunks = stream[Symbol.asyncIterator]();
  await chunks.next();
  while ((await control.heldStreams()) === 0) await new Promise((resolve) => setTimeout(resolve, 20));
  abort.abort();
  while ((await control.heldStreams()) !== 0) await new Promise((resolve) => setTimeout(resolve, 20));
  assert.equal(await control.releaseStreams(), 0);
});
