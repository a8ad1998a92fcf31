import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_BREAKER_SETTINGS, type BreakerSettings } from '../../../common/config-schema';
import {
  acquireProbe,
  applyOutcome,
  coolDownMs,
  effectiveMode,
  force,
  initialBreakerState,
  nextWake,
  tick,
  type BreakerOutcome,
  type RecordedBreakerOutcome,
  type BreakerState,
} from '../../../workflows/breaker/breaker-state';

const settings: BreakerSettings = { ...DEFAULT_BREAKER_SETTINGS, consecutiveFailures: 3, minimumVolume: 10, coolDownMs: 1_000, maxCoolDownMs: 4_000 };
const fail: BreakerOutcome = { model: 'm', ok: false, failureType: 'ProviderUnavailable' };
const ok: BreakerOutcome = { model: 'm', ok: true, latencyMs: 100 };

function feed(state: BreakerState, outcomes: RecordedBreakerOutcome[], at: number): BreakerState {
  return outcomes.reduce((current, outcome) => applyOutcome(current, outcome, at, settings), state);
}

test('a run of failures opens it; a success in between resets the run', () => {
  let state = feed(initialBreakerState('p'), [fail, fail, ok, fail, fail], 0);
  assert.equal(state.mode, 'closed');
  state = feed(state, [fail], 10);
  assert.equal(state.mode, 'open');
  assert.equal(state.reason, '3 consecutive failures');
  assert.equal(state.openUntil, 10 + 1_000);
  assert.deepEqual(state.lastTransition, { from: 'closed', to: 'open', at: 10, reason: '3 consecutive failures' });
});

test('a high failure rate over enough volume opens it even without a run', () => {
  const alternating = Array.from({ length: 10 }, (_, index) => (index % 2 === 0 ? ok : fail));
  const state = feed(initialBreakerState('p'), alternating, 0);
  assert.equal(state.mode, 'open');
  assert.equal(state.reason, '50% of 10 calls failed');
});

test('old outcomes leave the window', () => {
  const early = feed(initialBreakerState('p'), Array.from({ length: 8 }, (_, index) => (index % 2 === 0 ? fail : ok)), 0);
  // A minute later the earlier calls are gone: two more calls are far from the minimum volume.
  const later = feed(early, [fail, ok], settings.windowMs + 1);
  assert.equal(later.mode, 'closed');
});

test('a request-specific failure does not count', () => {
  const state = feed(initialBreakerState('p'), Array.from({ length: 10 }, () => ({ model: 'm', ok: false, failureType: 'InvalidRequest' })), 0);
  assert.equal(state.mode, 'closed');
  assert.equal(state.consecutiveFailures, 0);
});

test('AccessDenied opens at once; a rate limit opens until its Retry-After', () => {
  assert.equal(applyOutcome(initialBreakerState('p'), { model: 'm', ok: false, failureType: 'AccessDenied' }, 5, settings).mode, 'open');
  const limited = applyOutcome(initialBreakerState('p'), { model: 'm', ok: false, failureType: 'RateLimited', retryAfterMs: 7_000 }, 5, settings);
  assert.equal(limited.mode, 'open');
  assert.equal(limited.openUntil, 7_005);
  assert.equal(limited.openings, 0, 'a Retry-After does not grow the cool-down');
});

test('after the cool-down it lets a bounded number of probes through; a good probe closes it', () => {
  let state = feed(initialBreakerState('p'), [fail, fail, fail], 0);
  assert.equal(acquireProbe(state, 500, settings).probeId, null, 'no probe while cooling down');
  assert.equal(nextWake(state), 1_000);
  state = tick(state, 1_000, settings);
  assert.equal(state.mode, 'half_open');
  const first = acquireProbe(state, 1_000, settings);
  assert.equal(first.probeId, 'probe-1');
  assert.equal(acquireProbe(first.state, 1_001, settings).probeId, null, 'only one probe at a time');
  // A straggler's success is not a probe and decides nothing.
  const straggler = applyOutcome(first.state, ok, 1_002, settings);
  assert.equal(straggler.mode, 'half_open');
  const closed = applyOutcome(straggler, { ...ok, probeId: 'probe-1' }, 1_003, settings);
  assert.equal(closed.mode, 'closed');
  assert.equal(closed.openings, 0);
  assert.equal(closed.lastTransition?.reason, 'probe succeeded');
});

test('a failed probe opens it again for twice as long, up to the cap', () => {
  let state = feed(initialBreakerState('p'), [fail, fail, fail], 0);
  const waits: number[] = [];
  let now = 0;
  for (let round = 0; round < 4; round += 1) {
    waits.push((state.openUntil ?? 0) - now);
    now = state.openUntil ?? now;
    const probe = acquireProbe(tick(state, now, settings), now, settings);
    assert.ok(probe.probeId);
    state = applyOutcome(probe.state, { ...fail, probeId: probe.probeId }, now, settings);
    assert.equal(state.mode, 'open');
  }
  waits.push((state.openUntil ?? 0) - now);
  assert.deepEqual(waits, [1_000, 2_000, 4_000, 4_000, 4_000]);
  assert.equal(coolDownMs(10, settings), 4_000);
});

test('a probe that never reports frees its slot when its lease runs out', () => {
  let state = tick(feed(initialBreakerState('p'), [fail, fail, fail], 0), 1_000, settings);
  const probe = acquireProbe(state, 1_000, settings);
  state = probe.state;
  assert.equal(nextWake(state), 1_000 + settings.probeLeaseMs);
  assert.equal(acquireProbe(state, 1_000 + settings.probeLeaseMs, settings).probeId, 'probe-2');
});

test('forcing wins over the state machine and is audited; auto releases it to a clean closed state', () => {
  let state = force(initialBreakerState('p'), 'open', 100, 'ops@example', 'provider incident 42');
  assert.equal(effectiveMode(state), 'open');
  assert.equal(acquireProbe(state, 200, settings).probeId, null);
  state = feed(state, [ok, ok], 300);
  assert.equal(effectiveMode(state), 'open');
  state = force(state, 'auto', 400, 'ops@example', 'incident over');
  assert.equal(effectiveMode(state), 'closed');
  assert.deepEqual(
    state.audit.map((entry) => [entry.action, entry.actor, entry.reason]),
    [
      ['force open', 'ops@example', 'provider incident 42'],
      ['force auto', 'ops@example', 'incident over'],
    ],
  );
  const closedByForce = force(feed(initialBreakerState('p'), [fail, fail, fail], 0), 'closed', 10, 'ops', 'false alarm');
  assert.equal(effectiveMode(closedByForce), 'closed');
  assert.equal(acquireProbe(closedByForce, 20, settings).probeId, '', 'closed: every call goes, no probe needed');
});

test('health per model: success counts and a smoothed latency', () => {
  const state = feed(initialBreakerState('p'), [ok, { ...ok, latencyMs: 200 }, fail, { model: 'other', ok: true, latencyMs: 50 }], 0);
  assert.deepEqual(state.models.m, { successes: 2, failures: 1, latencyMs: 120 });
  assert.deepEqual(state.models.other, { successes: 1, failures: 0, latencyMs: 50 });
});

test('outcomes recorded before the rename (modelId) count for their model', () => {
  const state = feed(initialBreakerState('p'), [ok, { modelId: 'm', ok: true, latencyMs: 200 }, { modelId: 'm', ok: false, failureType: 'ProviderUnavailable' }], 0);
  assert.deepEqual(state.models.m, { successes: 2, failures: 1, latencyMs: 120 });
  assert.equal(Object.keys(state.models).length, 1);
});
