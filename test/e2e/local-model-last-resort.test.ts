// The real local model as the last resort, through the real path: official
// `openai` client → HTTP API → Temporal dev server → worker → local model
// server (`local-model/main.ts`, its own process, SmolLM2-135M on the CPU).
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { after, afterEach, before, describe, test } from 'node:test';
import OpenAI from 'openai';
import { LOCAL_MODEL, TENANT_KEY, startHarness, withLocalModel, type Harness } from '../support/gateway-harness';
import { freePort } from '../../scripts/temporal-dev-server';
import { killAll, startEntryPoint } from '../support/processes';

const LOCAL = LOCAL_MODEL;

interface GatewayBlock {
  provider: string;
  outcome: string;
  attempts: { model: string; outcome: string; failureType?: string }[];
  route: { rejected: { model: string; reason: string }[] };
}

let harness: Harness;
let openai: OpenAI;
let localModel: ChildProcess;

before(async () => {
  const port = await freePort();
  harness = await startHarness({ configure: withLocalModel(`http://127.0.0.1:${port}/v1`, 'local-real') });
  // Started as `npm start` starts it: the entry point reads the provider's `embedded` block from the config.
  localModel = (await startEntryPoint('local-model/main.ts', 'local model server listening', { ...harness.env, LOCAL_MODEL_PROVIDER: 'local-real' })).child;
  openai = new OpenAI({ baseURL: `${harness.apiUrl}/v1`, apiKey: TENANT_KEY, maxRetries: 0, timeout: 120_000 });
});

after(async () => {
  killAll(localModel ? [localModel] : []);
  await harness?.stop();
});

afterEach(async () => {
  await harness.clearFaults();
  await harness.resetCalls();
});

const everyVendorDown = async () => {
  await harness.setFault('model-a', { status: 503 });
  await harness.setFault('model-b', { status: 503 });
};

describe('the local model answers when every vendor is down', () => {
  test('a chat completion is answered by the real local model, not by the deterministic fallback', async () => {
    await everyVendorDown();
    const { data, response } = await openai.chat.completions
      .create({ model: 'model-a', messages: [{ role: 'user', content: 'What is the capital of France?' }], temperature: 0, seed: 7, max_tokens: 48 })
      .withResponse();
    const gateway = (data as unknown as { gateway: GatewayBlock }).gateway;
    assert.equal(data.model, LOCAL);
    assert.equal(response.headers.get('x-gateway-model'), LOCAL);
    assert.equal(gateway.outcome, 'success');
    assert.equal(gateway.provider, 'local-real');
    assert.deepEqual(
      gateway.attempts.map((attempt) => [attempt.model, attempt.outcome]),
      [
        ['model-a', 'failed'],
        ['model-b', 'failed'],
        [LOCAL, 'success'],
      ],
    );
    const text = data.choices[0]?.message.content ?? '';
    assert.match(text, /\S/);
    assert.notEqual(text, 'deterministic fallback answer');
    assert.ok((data.usage?.completion_tokens ?? 0) > 0, 'usage comes from the local model');
  });

  test('a streamed request is streamed by the local model', async () => {
    await everyVendorDown();
    const stream = await openai.chat.completions.create({
      model: 'model-a',
      messages: [{ role: 'user', content: 'Name three colors.' }],
      temperature: 0,
      seed: 7,
      max_tokens: 48,
      stream: true,
    });
    let text = '';
    let pieces = 0;
    let model = '';
    for await (const chunk of stream) {
      model = chunk.model;
      const piece = chunk.choices[0]?.delta.content;
      if (piece) {
        text += piece;
        pieces += 1;
      }
    }
    assert.equal(model, LOCAL);
    assert.ok(pieces > 1, 'the answer arrives in pieces');
    assert.match(text, /\S/);
    assert.notEqual(text, 'deterministic fallback answer');
  });

  test('a confidential prompt goes only to the local model, even with every vendor up', async () => {
    const { data } = await openai.chat.completions
      .create(
        { model: 'model-a', messages: [{ role: 'user', content: 'Summarize: the merger closes on Friday.' }], max_tokens: 48 },
        { headers: { 'x-gateway-sensitivity': 'confidential' } },
      )
      .withResponse();
    const gateway = (data as unknown as { gateway: GatewayBlock }).gateway;
    assert.equal(data.model, LOCAL);
    assert.deepEqual(gateway.attempts.map((attempt) => attempt.model), [LOCAL]);
    assert.ok(gateway.route.rejected.some((rejected) => rejected.model === 'model-a' && /confidential/.test(rejected.reason)));
    const calls = await harness.calls();
    assert.equal(calls['model-a'] ?? 0, 0);
    assert.equal(calls['model-b'] ?? 0, 0);
  });

  test('with the local model gone as well, the deterministic fallback answers', async () => {
    await everyVendorDown();
    killAll([localModel]);
    await new Promise((resolve) => localModel.once('exit', resolve).exitCode !== null && resolve(undefined));
    const { data } = await openai.chat.completions.create({ model: 'model-a', messages: [{ role: 'user', content: 'Hello?' }] }).withResponse();
    const gateway = (data as unknown as { gateway: GatewayBlock }).gateway;
    assert.equal(gateway.outcome, 'fallback_answer');
    assert.equal(data.choices[0]?.message.content, 'deterministic fallback answer');
    assert.equal(gateway.attempts.at(-1)?.model, LOCAL);
    assert.equal(gateway.attempts.at(-1)?.outcome, 'failed');
  });
});
