// The Redis-backed response cache is shared: two gateway deployments (each an
// API process and a worker process on its own task queue) over one real
// redis-server (Debian's package, see scripts/redis-server.ts) answer each
// other's repeated requests without a second provider call.
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { after, before, test } from 'node:test';
import OpenAI from 'openai';
import { startRedisServer, type RedisServer } from '../../scripts/redis-server';
import { TENANT_KEY, startHarness, type Harness } from '../support/gateway-harness';
import { killAll, startEntryPoint } from '../support/processes';

let harness: Harness;
let redis: RedisServer;
const children: ChildProcess[] = [];

/** An API process and a worker process on their own task queue, with the cache in Redis. */
async function startDeployment(name: string): Promise<string> {
  const env = { ...harness.env, REDIS_URL: redis.url, SWITCHYARD_TASK_QUEUE: `${harness.env.SWITCHYARD_TASK_QUEUE}-${name}` };
  const worker = await startEntryPoint('worker/main.ts', 'worker started', env);
  children.push(worker.child);
  const api = await startEntryPoint('api/main.ts', 'api listening', env);
  children.push(api.child);
  return String(api.line.url);
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

test('two API processes share one Redis cache', async () => {
  const [first, second] = await Promise.all([startDeployment('one'), startDeployment('two')]);
  const ask = (url: string) =>
    new OpenAI({ baseURL: `${url}/v1`, apiKey: TENANT_KEY, maxRetries: 0, timeout: 60_000 }).chat.completions
      .create({ model: 'model-a', temperature: 0, messages: [{ role: 'user', content: 'Shared across processes?' }] })
      .withResponse();

  const answered = await ask(first);
  assert.equal(answered.response.headers.get('x-gateway-cache'), 'miss');
  const fromOther = await ask(second);
  assert.equal(fromOther.response.headers.get('x-gateway-cache'), 'hit');
  assert.equal(fromOther.data.choices[0]?.message.content, answered.data.choices[0]?.message.content);
  assert.equal((await harness.calls())['model-a'], 1, 'one provider call for both');

  // The entry is in Redis under its tenant's prefix, with the retention as its expiry.
  const keys = await redisCommand(['KEYS', 'switchyard:answer:*']);
  assert.match(keys, /switchyard:answer:alpha:[0-9a-f]{64}/);
  const key = /switchyard:answer:alpha:[0-9a-f]{64}/.exec(keys)?.[0] ?? '';
  const ttl = Number(/:(-?\d+)/.exec(await redisCommand(['PTTL', key]))?.[1]);
  assert.ok(ttl > 6 * 86_400_000 && ttl <= 7 * 86_400_000, `expires with the default 7-day retention (${ttl} ms)`);

  // A tenant's purge deletes its keys (found by SCAN on its prefix) and no other tenant's.
  const otherKey = `switchyard:answer:beta:${'0'.repeat(64)}`;
  await redisCommand(['SET', otherKey, 'not alpha']);
  const purged = await fetch(`${first}/v1/cache`, { method: 'DELETE', headers: { authorization: `Bearer ${TENANT_KEY}` } });
  assert.equal(purged.status, 200);
  assert.equal(((await purged.json()) as { deleted: number }).deleted, 1);
  assert.doesNotMatch(await redisCommand(['KEYS', 'switchyard:answer:alpha:*']), /switchyard:answer:alpha:/);
  assert.match(await redisCommand(['EXISTS', otherKey]), /:1/, "beta's key survives alpha's purge");
  assert.equal((await ask(second)).response.headers.get('x-gateway-cache'), 'miss', 'the other deployment misses too');
});

/** One RESP command over a raw socket; the raw reply. */
async function redisCommand(parts: string[]): Promise<string> {
  const { createConnection } = await import('node:net');
  return new Promise((resolve, reject) => {
    const socket = createConnection({ host: '127.0.0.1', port: redis.port });
    let reply = '';
    socket.on('data', (data) => {
      reply += data.toString();
      socket.end();
    });
    socket.on('end', () => resolve(reply));
    socket.on('error', reject);
    socket.write(`*${parts.length}\r\n${parts.map((part) => `$${Buffer.byteLength(part)}\r\n${part}\r\n`).join('')}`);
  });
}
