import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startEntryPoint } from '../../scripts/entry-point';
import { waitFor } from '../support/processes';

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

test('a child that never gets ready is killed and the start fails with its last lines', async () => {
  let pid = 0;
  const onLine = (line: string) => {
    pid ||= Number(/"pid":(\d+)/.exec(line)?.[1] ?? 0);
  };
  // The fixture writes its lines as it starts, well inside the deadline.
  const started = startEntryPoint('test/fixtures/stuck-entry-point.ts', 'ready', {}, onLine, { readyWithinMs: 5_000 });
  // This test's own bound: should startEntryPoint not give up, it kills the child and fails.
  let timer: NodeJS.Timeout | undefined;
  const gaveUp = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => {
      if (pid > 0 && isRunning(pid)) process.kill(pid, 'SIGKILL');
      reject(new Error('startEntryPoint was still waiting after 30 s: it has no deadline'));
    }, 30_000);
  });
  const failure = await Promise.race([started, gaveUp])
    .then(
      () => undefined,
      (error: unknown) => error,
    )
    .finally(() => clearTimeout(timer));
  assert.ok(failure instanceof Error, 'the start failed');
  assert.match(failure.message, /stuck-entry-point\.ts did not log "ready" within 5000 ms, so it was killed/);
  assert.match(failure.message, /waiting for something that never comes/, 'the last lines are in the message');
  assert.ok(pid > 0, 'the fixture logged its pid');
  await waitFor(async () => !isRunning(pid), 'the stuck child to be gone');
});

test('a child that exits before it is ready fails the start with its last lines', async () => {
  await assert.rejects(startEntryPoint('test/fixtures/no-such-entry-point.ts', 'ready', {}), (error: Error) => {
    assert.match(error.message, /exited with 1 before it was ready; its last lines:/);
    assert.match(error.message, /no-such-entry-point/);
    return true;
  });
});
