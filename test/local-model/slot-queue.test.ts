import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ServerBusyError, SlotQueue } from '../../local-model/slot-queue';

test('grants free slots at once, queues in arrival order, refuses beyond the queue', async () => {
  const queue = new SlotQueue(2, 2, 60_000);
  const first = await queue.acquire();
  const second = await queue.acquire();
  assert.notEqual(first.index, second.index);
  const order: number[] = [];
  const third = queue.acquire().then((slot) => (order.push(3), slot));
  const fourth = queue.acquire().then((slot) => (order.push(4), slot));
  assert.deepEqual(queue.stats(), { slots: 2, busy: 2, queued: 2, maxQueued: 2 });
  await assert.rejects(queue.acquire(), ServerBusyError);

  first.release();
  first.release(); // idempotent: it does not free a second slot
  const granted = await third;
  assert.equal(granted.index, first.index);
  assert.deepEqual(order, [3]);
  assert.deepEqual(queue.stats(), { slots: 2, busy: 2, queued: 1, maxQueued: 2 });

  second.release();
  assert.equal((await fourth).index, second.index);
  assert.deepEqual(order, [3, 4]);
  granted.release();
  (await fourth).release();
  assert.deepEqual(queue.stats(), { slots: 2, busy: 0, queued: 0, maxQueued: 2 });
});

test('a waiter that gives up leaves the queue and never gets a slot', async () => {
  const queue = new SlotQueue(1, 4, 60_000);
  const held = await queue.acquire();
  const controller = new AbortController();
  const leaving = queue.acquire(controller.signal);
  const staying = queue.acquire();
  controller.abort();
  await assert.rejects(leaving, { name: 'AbortError' });
  assert.equal(queue.stats().queued, 1);
  held.release();
  assert.equal((await staying).index, held.index);
});

test('a waiter past the queue timeout is refused as busy, and its place is freed', async () => {
  const queue = new SlotQueue(1, 1, 5);
  const held = await queue.acquire();
  await assert.rejects(queue.acquire(), (error: Error) => error instanceof ServerBusyError && /waited 5 ms/.test(error.message));
  assert.equal(queue.stats().queued, 0);
  held.release();
  assert.equal(queue.stats().busy, 0);
});

test('with no queue, a second caller is refused while the slot is taken', async () => {
  const queue = new SlotQueue(1, 0, 60_000);
  const held = await queue.acquire();
  await assert.rejects(queue.acquire(), ServerBusyError);
  held.release();
  (await queue.acquire()).release();
});
