// A deployment safe by default, through real HTTP on the production entry
// point (api/main.ts) and the embedded gateway:
// - `/metrics` on the API's port is for operators: no key is a 401, a tenant
//   key a 403 (its labels name every tenant and its spend); the open metrics
//   listener (METRICS_HOST:METRICS_PORT) is where Prometheus scrapes;
// - `/healthz` says up or down, never why: no exception text, address or stack;
// - a config holding a published development key never listens beyond loopback.
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import { after, before, test } from 'node:test';
import { ADMIN_KEY, TENANT_KEY, startHarness, type Harness } from '../support/gateway-harness';
import { killAll, startEntryPoint } from '../support/processes';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy';

let harness: Harness;
let proxy: TcpProxy;
/** api/main.ts, reaching Temporal through `proxy`. */
let api: { url: string; metricsUrl: string; lines: Record<string, unknown>[] };
const children: ChildProcess[] = [];

before(async () => {
  harness = await startHarness();
  proxy = await startTcpProxy(harness.devServer.address);
  const lines: Record<string, unknown>[] = [];
  const { child, line } = await startEntryPoint('api/main.ts', 'api listening', { ...harness.env, TEMPORAL_ADDRESS: proxy.address }, (text) => {
    try {
      lines.push(JSON.parse(text) as Record<string, unknown>);
    } catch {
      // Not one of our JSON lines.
    }
  });
  children.push(child);
  api = { url: String(line.url), metricsUrl: String(line.metrics), lines };
});

after(async () => {
  killAll(children);
  await proxy?.cut();
  await harness?.stop();
});

const scrape = (url: string, key?: string) => fetch(url, key === undefined ? {} : { headers: { authorization: `Bearer ${key}` } });

test('/metrics on the API port of the embedded gateway answers the admin key only', async () => {
  const anonymous = await scrape(`${harness.apiUrl}/metrics`);
  assert.equal(anonymous.status, 401);
  const refused = await anonymous.text();
  assert.ok(!refused.includes('switchyard_'), 'a refusal shows no metric');
  assert.equal((await scrape(`${harness.apiUrl}/metrics`, TENANT_KEY)).status, 403);
  assert.equal((await scrape(`${harness.apiUrl}/metrics`, 'not-a-key')).status, 401);
  const admitted = await scrape(`${harness.apiUrl}/metrics`, ADMIN_KEY);
  assert.equal(admitted.status, 200);
  assert.match(await admitted.text(), /^# HELP switchyard_/m);
});

test('an API process answers /metrics on its port to the admin key only, and openly on its metrics listener, bound as configured', async () => {
  assert.equal((await scrape(`${api.url}/metrics`)).status, 401);
  assert.equal((await scrape(`${api.url}/metrics`, TENANT_KEY)).status, 403);
  assert.equal((await scrape(`${api.url}/metrics`, ADMIN_KEY)).status, 200);
  // harness.env: METRICS_PORT=0 and no METRICS_HOST, so the default 127.0.0.1 on a port of its own.
  assert.match(api.metricsUrl, /^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
  assert.notEqual(new URL(api.metricsUrl).port, new URL(api.url).port);
  const open = await scrape(api.metricsUrl);
  assert.equal(open.status, 200);
  assert.match(await open.text(), /^switchyard_http_requests_total\{route="\/metrics",method="GET",status="401"\} \d+$/m);
});

test('/healthz says Temporal is unreachable without saying why: no error text, address or stack in the body', async () => {
  const healthy = await fetch(`${api.url}/healthz`);
  assert.equal(healthy.status, 200);
  const configVersion = ((await healthy.json()) as { configVersion: string }).configVersion;

  await proxy.cut();
  const down = await fetch(`${api.url}/healthz`, { signal: AbortSignal.timeout(30_000) });
  assert.equal(down.status, 503);
  const text = await down.text();
  assert.deepEqual(JSON.parse(text), { status: 'degraded', temporal: 'unreachable', configVersion });
  const [, port = ''] = proxy.address.split(':');
  for (const internal of [port, '127.0.0.1', 'Error', 'UNAVAILABLE', 'did not answer', '    at ', '.ts:']) {
    assert.ok(!text.includes(internal), `the body holds no "${internal}": ${text}`);
  }
  // Operators still learn why, from the log.
  assert.ok(api.lines.some((line) => line.msg === 'health check: Temporal unreachable' && typeof line.error === 'string' && line.error.length > 0));
});

test('an API process with a config that accepts a published development key refuses to listen beyond loopback', async () => {
  const env = { ...harness.env, SWITCHYARD_CONFIG: resolve(__dirname, '../../config/mock.yaml'), HOST: '0.0.0.0' };
  const started = startEntryPoint('api/main.ts', 'api listening', env).then(({ child }) => {
    // It listened after all: stop it, and fail.
    children.push(child);
    child.kill('SIGKILL');
    throw new Error('api/main.ts listened on 0.0.0.0 with a published key');
  });
  await assert.rejects(started, /exited with 1 before it was ready[^]*refusing to listen on 0\.0\.0\.0: .*published development key/);
});
