// README claims about a running deployment, with the API (api/main.ts) and the
// worker (worker/main.ts) as processes of their own, as in production:
// - `GET /healthz`: 200 when the API and Temporal answer, 503 otherwise;
// - "A changed config file is picked up by every process (polled every 2 s,
//   or at once on SIGHUP) and applies to new requests only", each change an
//   audit event, and a file that does not validate is `config_rejected`.
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import OpenAI from 'openai';
import { TENANT_KEY, startHarness, type Harness } from '../support/gateway-harness';
import { killAll, startEntryPoint } from '../support/processes';
import { startTcpProxy } from '../support/tcp-proxy';

let harness: Harness;
const children: ChildProcess[] = [];

/** A process the test started, with every JSON line it wrote to stderr. */
interface Running {
  child: ChildProcess;
  url: string;
  lines: Record<string, unknown>[];
}

async function start(entry: string, ready: string, env: Record<string, string> = {}): Promise<Running> {
  const lines: Record<string, unknown>[] = [];
  const { child, line } = await startEntryPoint(entry, ready, { ...harness.env, ...env }, (text) => {
    try {
      lines.push(JSON.parse(text) as Record<string, unknown>);
    } catch {
      // Not one of our JSON lines.
    }
  });
  children.push(child);
  return { child, url: String(line.url ?? ''), lines };
}

/** Waits (at most 30 s: the poll is every 2 s) for the first line after `from` that `matches`. */
async function lineOf(process: Running, from: number, matches: (line: Record<string, unknown>) => boolean, what: string): Promise<Record<string, unknown>> {
  for (let round = 0; round < 600; round += 1) {
    const found = process.lines.slice(from).find(matches);
    if (found) return found;
    await sleep(50);
  }
  assert.fail(`no log line ${what} within 30 s`);
}

const audit = (kind: string) => (line: Record<string, unknown>) => line.audit === kind;

let api: Running;
let worker: Running;
let openai: OpenAI;
let original: string;

before(async () => {
  harness = await startHarness({ embeddedGateway: false });
  original = readFileSync(harness.configFile, 'utf8');
  worker = await start('worker/main.ts', 'worker started');
  api = await start('api/main.ts', 'api listening');
  openai = new OpenAI({ baseURL: `${api.url}/v1`, apiKey: TENANT_KEY, maxRetries: 0, timeout: 60_000 });
});

after(async () => {
  killAll(children);
  await harness?.stop();
});

/** The harness config with `edit` applied, written over the file both processes watch. */
function writeConfig(edit: (config: { routes: Record<string, string[]>; fallback: { message: string } }) => void): void {
  const config = JSON.parse(original) as { routes: Record<string, string[]>; fallback: { message: string } };
  edit(config);
  writeFileSync(harness.configFile, JSON.stringify(config, null, 2));
}

async function modelIds(): Promise<string[]> {
  const ids: string[] = [];
  for await (const model of openai.models.list()) ids.push(model.id);
  return ids;
}

async function askRoute(model: string) {
  const { data, response } = await openai.chat.completions.create({ model, messages: [{ role: 'user', content: `via ${model}` }] }).withResponse();
  return { model: response.headers.get('x-gateway-model'), configVersion: (data as unknown as { gateway: { config_version: string } }).gateway.config_version };
}

test('GET /healthz answers 200 while Temporal answers, 503 when it is unreachable, and 200 again once it is back', async (t) => {
  const proxy = await startTcpProxy(harness.devServer.address);
  t.after(() => proxy.cut());
  const behindProxy = await start('api/main.ts', 'api listening', { TEMPORAL_ADDRESS: proxy.address });
  const health = async () => {
    const response = await fetch(`${behindProxy.url}/healthz`, { signal: AbortSignal.timeout(20_000) });
    return { status: response.status, body: (await response.json()) as { status: string; temporal: string } };
  };
  const healthy = await health();
  assert.equal(healthy.status, 200);
  assert.deepEqual([healthy.body.status, healthy.body.temporal], ['ok', 'ok']);

  await proxy.cut();
  const down = await health();
  assert.equal(down.status, 503);
  assert.deepEqual([down.body.status, down.body.temporal], ['degraded', 'unreachable']);
  assert.equal(behindProxy.child.exitCode, null, 'the API process stays up while Temporal is away');

  await proxy.restore();
  let status = 0;
  for (let round = 0; round < 60 && status !== 200; round += 1) {
    status = (await health()).status;
    if (status !== 200) await sleep(250);
  }
  assert.equal(status, 200, 'healthy again within 60 checks of Temporal coming back');
  behindProxy.child.kill('SIGKILL');
});

test('a changed config file is picked up by the API and the worker without a signal, and applies to new requests', async () => {
  const before = { api: api.lines.length, worker: worker.lines.length };
  assert.ok(!(await modelIds()).includes('reloaded'));
  writeConfig((config) => {
    config.routes.reloaded = ['model-b'];
  });
  const [apiChange, workerChange] = await Promise.all([
    lineOf(api, before.api, audit('config_changed'), 'config_changed from the API'),
    lineOf(worker, before.worker, audit('config_changed'), 'config_changed from the worker'),
  ]);
  assert.equal(apiChange.trigger, 'file changed');
  assert.equal(workerChange.trigger, 'file changed');
  assert.equal(apiChange.version, workerChange.version, 'both processes hold the same config');
  assert.notEqual(apiChange.version, apiChange.previousVersion);

  assert.ok((await modelIds()).includes('reloaded'), 'the API lists the new route');
  // The worker routes by it: the route's only model answers, under the new version.
  assert.deepEqual(await askRoute('reloaded'), { model: 'model-b', configVersion: workerChange.version });
});

test('SIGHUP makes the worker reload at once, before its next poll', async () => {
  // Right after one of the worker's polls, the next is about 2 s away: a reload now is the signal's.
  let from = worker.lines.length;
  writeConfig((config) => {
    config.fallback.message = 'poll anchor';
  });
  await lineOf(worker, from, audit('config_changed'), 'config_changed from the worker (anchor)');
  from = worker.lines.length;
  writeConfig((config) => {
    config.fallback.message = 'poll anchor';
    config.routes.default = ['model-c', 'model-a', 'model-b'];
  });
  worker.child.kill('SIGHUP');
  const change = await lineOf(worker, from, audit('config_changed'), 'config_changed from the worker after SIGHUP');
  assert.equal(change.trigger, 'SIGHUP');
  assert.equal(worker.child.exitCode, null, 'the worker is still running');
  assert.deepEqual(await askRoute('default'), { model: 'model-c', configVersion: change.version });
});

test('SIGHUP makes the API reload at once, before its next poll', async () => {
  let from = api.lines.length;
  writeConfig((config) => {
    config.fallback.message = 'second anchor';
  });
  await lineOf(api, from, audit('config_changed'), 'config_changed from the API (anchor)');
  from = api.lines.length;
  writeConfig((config) => {
    config.fallback.message = 'second anchor';
    config.routes['after-hangup'] = ['model-a'];
  });
  api.child.kill('SIGHUP');
  const change = await lineOf(api, from, audit('config_changed'), 'config_changed from the API after SIGHUP');
  assert.equal(change.trigger, 'SIGHUP');
  assert.equal(api.child.exitCode, null, 'the API is still running');
  assert.ok((await modelIds()).includes('after-hangup'));
});

test('a config file that does not validate is rejected, logged as config_rejected, and the config in force stays', async () => {
  // Both processes on one version first: the last test's change reached the worker only by a poll, maybe not yet.
  const anchor = { api: api.lines.length, worker: worker.lines.length };
  writeConfig((config) => {
    config.fallback.message = 'rejection anchor';
  });
  const anchored = await lineOf(api, anchor.api, audit('config_changed'), 'config_changed from the API (anchor)');
  await lineOf(worker, anchor.worker, (line) => audit('config_changed')(line) && line.version === anchored.version, 'config_changed to the anchor from the worker');
  const from = { api: api.lines.length, worker: worker.lines.length };
  const inForce = await askRoute('model-a');
  writeConfig((config) => {
    config.routes.broken = ['no-such-model'];
  });
  const [apiRejection, workerRejection] = await Promise.all([
    lineOf(api, from.api, audit('config_rejected'), 'config_rejected from the API'),
    lineOf(worker, from.worker, audit('config_rejected'), 'config_rejected from the worker'),
  ]);
  assert.match(String(apiRejection.error), /no-such-model/);
  assert.equal(workerRejection.version, inForce.configVersion, 'the version in force is named');
  assert.deepEqual(await askRoute('model-a'), inForce);
  writeFileSync(harness.configFile, original);
});
