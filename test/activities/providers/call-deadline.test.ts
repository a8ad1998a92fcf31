import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import { startCallDeadline, startStreamDeadline, streamTimeoutMs } from '../../../activities/providers/call-deadline';

/** Yields `count` items, `gapMs` apart, stopping early when `signal` aborts. */
async function* ticking(count: number, gapMs: number, signal: AbortSignal): AsyncIterable<number> {
  for (let index = 0; index < count && !signal.aborted; index += 1) {
    await sleep(gapMs);
    yield index;
  }
}

test('a stream that keeps moving may run longer than the idle deadline', async () => {
  const deadline = startStreamDeadline(1_000, 60_000, undefined);
  let received = 0;
  // 15 items 100 ms apart: 1.5 s in all, every gap far below the 1 s idle deadline.
  for await (const item of deadline.track(ticking(15, 100, deadline.signal))) received = item + 1;
  deadline.dispose();
  assert.equal(received, 15);
  assert.equal(deadline.exceeded, false);
  assert.equal(deadline.signal.aborted, false);
});

test('a stream that stops moving is aborted by the idle deadline', async () => {
  const deadline = startStreamDeadline(200, 60_000, undefined);
  for await (const item of deadline.track(ticking(1, 0, deadline.signal))) assert.equal(item, 0);
  await new Promise((resolve) => deadline.signal.addEventListener('abort', resolve));
  assert.equal(deadline.exceeded, true);
});

test('a stream that keeps moving is still capped by the total deadline', async () => {
  const deadline = startStreamDeadline(5_000, 300, undefined);
  let received = 0;
  for await (const item of deadline.track(ticking(1_000_000, 20, deadline.signal))) received = item + 1;
  deadline.dispose();
  assert.equal(deadline.exceeded, true);
  assert.ok(received > 0);
});

test("the caller's abort is not a deadline", () => {
  const caller = new AbortController();
  const deadline = startStreamDeadline(5_000, 5_000, caller.signal);
  caller.abort();
  deadline.dispose();
  assert.equal(deadline.signal.aborted, true);
  assert.equal(deadline.exceeded, false);
});

test("a finished stream leaves nothing hanging on the caller's signal", () => {
  // The caller's signal outlives every call made under it; a listener left on it keeps each call's SDK state alive.
  const caller = new AbortController();
  for (let index = 0; index < 3; index += 1) startStreamDeadline(5_000, 5_000, caller.signal).dispose();
  assert.equal(getEventListeners(caller.signal, 'abort').length, 0);
});

test("a call's deadline aborts with the caller's reason when the caller aborts first", () => {
  const caller = new AbortController();
  const deadline = startCallDeadline(5_000, caller.signal);
  caller.abort(new Error('cancelled by the workflow'));
  assert.equal(deadline.signal.aborted, true);
  assert.equal((deadline.signal.reason as Error).message, 'cancelled by the workflow');
  assert.equal(deadline.exceeded, false);
  assert.equal(getEventListeners(caller.signal, 'abort').length, 0);
});

test('the stream cap defaults to ten call timeouts', () => {
  assert.equal(streamTimeoutMs({ requestTimeoutMs: 30_000 }), 300_000);
  assert.equal(streamTimeoutMs({ requestTimeoutMs: 30_000, streamTimeoutMs: 1_000 }), 1_000);
});
