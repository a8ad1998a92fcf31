// README, "Response cache": "A store that fails is a miss, never a failed
// request." A deployment (API and worker processes) with the cache in a real
// redis-server, which then stops, and one whose Redis was never reachable.
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { after, before, test } from 'node:test';
import OpenAI from 'openai';
import { startRedisServer, type RedisServer } from '../../scripts/redis-server';
import { freePort } from '../../scripts/temporal-dev-server';
import { TENANT_KEY, startHarness, type Harness } from '../support/gateway-harness';
import { killAll, startEntryPoint } from '../support/processes';

let harness: Harness;
let redis: RedisServer;
const children: ChildProcess[] = [];

/** An API process and a worker process on their own task queue, with the cache at `redisUrl`. */
async function startDeployment(name: string, redisUrl: string): Promise<OpenAI> {
  const env = { ...harness.env, REDIS_URL: redisUrl, SWITCHYARD_TASK_QUEUE: `${harness.env.SWITCHYARD_TASK_QUEUE}-${name}` };
  const worker = await startEntryPoint('worker/main.ts', 'worker started', env);
  children.push(worker.child);
  const api = await startEntryPoint('api/main.ts', 'api listening', env);
  children.push(api.child);
  return new OpenAI({ baseURL: `${String(api.line.url)}/v1`, apiKey: TENANT_KEY, maxRetries: 0, timeout: 120_000 });
}

async function ask(openai: OpenAI, content: string) {
  const { data, response } = await openai.chat.completions
    .create({ model: 'model-a', temperature: 0, messages: [{ role: 'user', content }] })
    .withResponse();
  return { text: data.choices[0]?.message.content ?? '', cache: response.headers.get('x-gateway-cache'), outcome: response.headers.get('x-gateway-outcome') };
}

before(async () => {
  redis = await startRedisServer();
  harness = await startHarness({ embeddedGateway: false, configure: (config) => ({ ...config, cache: { enabled: true, store: 'redis' } }) });
});

after(async () => {
  killAll(children);
  await harness?.stop();
  await redis?.stop();
});

test('when Redis stops, a cached question and a new one are misses, answered by the model', async () => {
  const openai = await startDeployment('stops', redis.url);
  const first = await ask(openai, 'cached before the outage');
  assert.equal(first.cache, 'miss');
  assert.equal((await ask(openai, 'cached before the outage')).cache, 'hit', 'the cache works while Redis runs');
  await harness.resetCalls();

  await redis.stop();
  const again = await ask(openai, 'cached before the outage');
  assert.deepEqual(again, { text: first.text, cache: 'miss', outcome: 'success' });
  const fresh = await ask(openai, 'asked during the outage');
  assert.equal(fresh.cache, 'miss');
  assert.equal(fresh.outcome, 'success');
  assert.match(fresh.text, /asked during the outage/);
  assert.deepEqual(await harness.calls(), { 'model-a': 2 }, 'both went to the model');
});

test('a Redis that was never reachable is a miss, and the request is answered', async () => {
  const openai = await startDeployment('never', `redis://127.0.0.1:${await freePort()}`);
  const answer = await ask(openai, 'no cache at all');
  assert.equal(answer.cache, 'miss');
  assert.equal(answer.outcome, 'success');
  assert.match(answer.text, /no cache at all/);
});
