import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_MODELS, MockState } from '../../mock/mock-state';

test('calls are numbered per model from one', () => {
  const state = new MockState();
  assert.equal(state.recordCall('a'), 1);
  assert.equal(state.recordCall('a'), 2);
  assert.equal(state.recordCall('b'), 1);
  assert.deepEqual(state.callCounts(), { a: 2, b: 1 });
});

test('a model without a fault takes none', () => {
  const state = new MockState();
  assert.equal(state.takeFault('a', 1), undefined);
});

test('a fault with times is used up call by call', () => {
  const state = new MockState();
  state.setFault('a', { status: 503, times: 2 });
  assert.deepEqual(state.takeFault('a', 1), { fault: { status: 503, times: 2 }, callNumber: 1 });
  assert.deepEqual(state.listFaults(), { a: { status: 503, times: 1 } });
  assert.ok(state.takeFault('a', 2));
  assert.equal(state.takeFault('a', 3), undefined);
  assert.deepEqual(state.listFaults(), {});
});

test("a model's own fault wins over the wildcard one", () => {
  const state = new MockState();
  state.setFault('*', { status: 503 });
  state.setFault('a', { status: 429 });
  assert.equal(state.takeFault('a', 1)?.fault.status, 429);
  assert.equal(state.takeFault('b', 1)?.fault.status, 503);
});

test('known models start with the defaults and add each model seen once', () => {
  const state = new MockState();
  state.recordCall('new-model');
  state.recordCall('new-model');
  state.recordCall(DEFAULT_MODELS[0] ?? 'mock-small');
  assert.deepEqual(state.knownModels(), [...DEFAULT_MODELS, 'new-model']);
});

test('a model named like an Object prototype key is counted like any other', () => {
  const state = new MockState();
  state.recordCall('__proto__');
  state.recordCall('constructor');
  assert.equal(state.callCount('__proto__'), 1);
  assert.equal(JSON.stringify(state.callCounts()), '{"__proto__":1,"constructor":1}');
});
