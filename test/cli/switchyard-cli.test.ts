// The operators' CLI against a real dev server and a running gateway worker.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { startHarness, type Harness } from '../support/gateway-harness';

const run = promisify(execFile);
let harness: Harness;

before(async () => {
  harness = await startHarness({ breakers: true });
});

after(async () => {
  await harness?.stop();
});

function cli(...args: string[]) {
  return run(process.execPath, ['--import', 'tsx', 'cli/switchyard.ts', ...args], { env: { ...process.env, ...harness.env } });
}

test('breakers force drains a provider, list shows it, auto releases it; each switch is audited', async () => {
  const forced = await cli('breakers', 'force', 'mock-openai', 'open', '--reason', 'incident 12', '--actor', 'oncall');
  assert.deepEqual(JSON.parse(forced.stdout), { provider: 'mock-openai', mode: 'open', forced: 'open', reason: 'forced by cli:oncall: incident 12' });
  assert.match(forced.stderr, /"audit":"breaker_forced".*"actor":"cli:oncall"/);

  const listed = JSON.parse((await cli('breakers', 'list')).stdout) as { provider: string; mode: string }[];
  assert.deepEqual(
    listed.map((row) => [row.provider, row.mode]),
    [
      ['mock-openai', 'open'],
      ['mock-anthropic', 'closed'],
      ['mock-local', 'closed'],
    ],
  );
  const released = JSON.parse((await cli('breakers', 'force', 'mock-openai', 'auto', '--reason', 'over')).stdout) as { mode: string };
  assert.equal(released.mode, 'closed');
});

test('bad usage exits 2 with a message, and changes nothing', async () => {
  await assert.rejects(cli('breakers', 'force', 'mock-openai', 'open'), (error: { code?: number; stderr?: string }) => {
    assert.equal(error.code, 2);
    assert.match(error.stderr ?? '', /--reason is required/);
    return true;
  });
  await assert.rejects(cli('breakers', 'force', 'nowhere', 'open', '--reason', 'x'), (error: { code?: number; stderr?: string }) => {
    assert.equal(error.code, 2);
    assert.match(error.stderr ?? '', /unknown provider "nowhere"/);
    return true;
  });
  await assert.rejects(cli('frobnicate'), (error: { code?: number }) => error.code === 2);
});
