// `npm start` as a user runs it (scripts/start.ts, after bootstrap): dev
// server, mock providers, the local model server and the gateway, all on
// ports of their own here so it can run beside a real `npm start`.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, test } from 'node:test';
import { freePort } from '../../scripts/temporal-dev-server';

const ROOT = resolve(__dirname, '../..');
let child: ChildProcess;
let directory: string;
let apiUrl: string;
let localModelUrl: string;
const lines: string[] = [];

before(async () => {
  directory = mkdtempSync(join(tmpdir(), 'switchyard-start-'));
  const [temporalPort, uiPort, apiPort, mockPort, localPort] = [await freePort(), await freePort(), await freePort(), await freePort(), await freePort()];
  localModelUrl = `http://127.0.0.1:${localPort}/v1`;
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    TEMPORAL_PORT: String(temporalPort),
    TEMPORAL_UI_PORT: String(uiPort),
    TEMPORAL_DB_FILE: join(directory, 'temporal.db'),
    PORT: String(apiPort),
    MOCK_PROVIDER_PORT: String(mockPort),
    LOCAL_MODEL_URL: localModelUrl,
  };
  for (const name of ['OPENAI_API_KEY', 'ANTHROPIC_API_KEY', 'SWITCHYARD_CONFIG', 'TEMPORAL_ADDRESS']) delete env[name];
  child = spawn(process.execPath, ['--import', 'tsx', 'scripts/start.ts'], { cwd: ROOT, env, stdio: ['ignore', 'ignore', 'pipe'] });
  const reader = createInterface({ input: child.stderr as NodeJS.ReadableStream });
  apiUrl = await new Promise<string>((resolvePromise, reject) => {
    child.once('exit', (code) => reject(new Error(`npm start exited with ${code}:\n${lines.slice(-20).join('\n')}`)));
    reader.on('line', (line) => {
      lines.push(line);
      const match = /^\[switchyard\] API (http:\/\/\S+)/.exec(line);
      if (match?.[1]) resolvePromise(match[1]);
    });
  });
});

after(async () => {
  if (child && child.exitCode === null) {
    const exited = new Promise((done) => child.once('exit', done));
    child.kill('SIGINT');
    await exited;
  }
  rmSync(directory, { recursive: true, force: true });
});

test('npm start runs the local model server and the gateway answers a confidential prompt with it', async () => {
  assert.ok(lines.some((line) => line.includes('local model server listening')), 'the local model server reported ready');
  const health = (await (await fetch(localModelUrl.replace(/\/v1$/, '/healthz'))).json()) as { status: string; model: string };
  assert.deepEqual([health.status, health.model], ['ok', 'smollm2-135m-instruct']);

  const response = await fetch(`${apiUrl}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: 'Bearer switchyard-dev-key', 'content-type': 'application/json', 'x-gateway-sensitivity': 'confidential' },
    body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Name three colors.' }], max_tokens: 32 }),
  });
  assert.equal(response.status, 200);
  const body = (await response.json()) as { model: string; choices: { message: { content: string } }[]; gateway: { outcome: string } };
  assert.equal(body.model, 'smollm2-135m-instruct');
  assert.equal(body.gateway.outcome, 'success');
  assert.match(body.choices[0]?.message.content ?? '', /\S/);
});

test('Ctrl-C stops everything, the local model server included', async () => {
  const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
  child.kill('SIGINT');
  assert.equal(await exited, 0);
  await assert.rejects(fetch(localModelUrl.replace(/\/v1$/, '/healthz')), 'the local model server is gone');
});
