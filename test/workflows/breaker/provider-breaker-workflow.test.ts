// The breaker workflow on Temporal's time-skipping test server: cool-downs of
// minutes pass instantly, so the whole life of a breaker runs in seconds.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import type { InjectedSinks } from '@temporalio/worker';
import { DEFAULT_BREAKER_SETTINGS, type BreakerSettings } from '../../../common/config-schema';
import { useTimeSkippingWorker } from '../../support/time-skipping';
import type { BreakerChanged, TelemetrySinks } from '../../../workflows/telemetry';
import type { BreakerOutcome } from '../../../workflows/breaker/breaker-state';
import {
  acquireProbeUpdate,
  breakerOutcomesSignal,
  breakerStateQuery,
  forceBreakerUpdate,
  providerBreakerWorkflow,
} from '../../../workflows/breaker/provider-breaker-workflow';

const TASK_QUEUE = 'breaker-test';
const settings: BreakerSettings = { ...DEFAULT_BREAKER_SETTINGS, consecutiveFailures: 3, coolDownMs: 60_000, maxCoolDownMs: 240_000 };
const fail: BreakerOutcome = { model: 'm', ok: false, failureType: 'ProviderUnavailable' };

// The breaker's transitions, as the worker's telemetry receives them.
const changes: BreakerChanged[] = [];
const telemetrySinks: InjectedSinks<TelemetrySinks> = {
  telemetry: {
    breakerChanged: {
      fn: (_info, change) => {
        changes.push(change);
      },
      callDuringReplay: false,
    },
    requestEnded: { fn: () => undefined, callDuringReplay: false },
  },
};
const timeSkipping = useTimeSkippingWorker(TASK_QUEUE, { sinks: telemetrySinks });

async function startBreaker(key: string) {
  return timeSkipping.env.client.workflow.start(providerBreakerWorkflow, { workflowId: `breaker-${key}`, taskQueue: TASK_QUEUE, args: [{ key, settings }] });
}

test('opens on failures, waits out its cool-down, closes after a good probe', async () => {
  const breaker = await startBreaker('life');
  await breaker.signal(breakerOutcomesSignal, { settings, outcomes: [fail, fail, fail] });
  const opened = await breaker.query(breakerStateQuery);
  assert.equal(opened.mode, 'open');
  assert.equal(opened.reason, '3 consecutive failures');
  assert.equal(opened.lastTransition?.to, 'open');
  // No probe during the cool-down.
  assert.equal((await breaker.executeUpdate(acquireProbeUpdate, { args: [{}] })).probeId, null);

  await timeSkipping.env.sleep(61_000);
  assert.equal((await breaker.query(breakerStateQuery)).mode, 'half_open');
  const probe = await breaker.executeUpdate(acquireProbeUpdate, { args: [{}] });
  assert.equal(probe.probeId, 'probe-1');
  assert.equal((await breaker.executeUpdate(acquireProbeUpdate, { args: [{}] })).probeId, null, 'one probe at a time');
  await breaker.signal(breakerOutcomesSignal, { settings, outcomes: [{ model: 'm', ok: true, latencyMs: 80, probeId: 'probe-1' }] });
  const closed = await breaker.query(breakerStateQuery);
  assert.equal(closed.mode, 'closed');
  assert.equal(closed.lastTransition?.reason, 'probe succeeded');
  assert.equal(closed.transitions, 3);
  // Each transition reached the worker's telemetry once (switchyard_breaker_transitions_total).
  assert.deepEqual(
    changes.filter((change) => change.provider === 'life'),
    [
      { provider: 'life', from: 'closed', to: 'open' },
      { provider: 'life', from: 'open', to: 'half_open' },
      { provider: 'life', from: 'half_open', to: 'closed' },
    ],
  );
});

test('a permit asked for by someone who stopped waiting is not granted, and keeps the probe slot free', async () => {
  const breaker = await startBreaker('late-asker');
  await breaker.signal(breakerOutcomesSignal, { settings, outcomes: [fail, fail, fail] });
  await timeSkipping.env.sleep(61_000);
  const now = await timeSkipping.env.currentTimeMs();
  const late = await breaker.executeUpdate(acquireProbeUpdate, { args: [{ notAfter: now - 1 }] });
  assert.deepEqual(late, { probeId: null, mode: 'half_open' }, 'the asker gave up before the breaker answered');
  const inTime = await breaker.executeUpdate(acquireProbeUpdate, { args: [{ notAfter: now + 10_000 }] });
  assert.equal(inTime.probeId, 'probe-1', 'the slot was not taken by the late request');
});

test('each failed probe doubles the cool-down up to its cap', async () => {
  const breaker = await startBreaker('growing');
  await breaker.signal(breakerOutcomesSignal, { settings, outcomes: [fail, fail, fail] });
  const coolDowns: number[] = [];
  for (let round = 0; round < 4; round += 1) {
    const state = await breaker.query(breakerStateQuery);
    assert.equal(state.mode, 'open');
    coolDowns.push(state.openUntil! - state.lastTransition!.at);
    await timeSkipping.env.sleep(state.openUntil! - (await timeSkipping.env.currentTimeMs()) + 1_000);
    const probe = await breaker.executeUpdate(acquireProbeUpdate, { args: [{}] });
    assert.ok(probe.probeId, `a probe after cool-down ${round + 1}`);
    await breaker.signal(breakerOutcomesSignal, { settings, outcomes: [{ ...fail, probeId: probe.probeId }] });
  }
  assert.deepEqual(coolDowns, [60_000, 120_000, 240_000, 240_000]);
});

test('a forced switch wins, is audited, and auto hands control back', async () => {
  const breaker = await startBreaker('forced');
  const forced = await breaker.executeUpdate(forceBreakerUpdate, { args: [{ mode: 'open', actor: 'oncall', reason: 'vendor incident' }] });
  assert.equal(forced.mode, 'open');
  assert.equal(forced.forced, 'open');
  await timeSkipping.env.sleep(600_000);
  assert.equal((await breaker.query(breakerStateQuery)).mode, 'open', 'a forced open never cools down by itself');
  await assert.rejects(
    breaker.executeUpdate(forceBreakerUpdate, { args: [{ mode: 'sideways' as 'open', actor: 'x', reason: 'y' }] }),
    (error: unknown) => error instanceof WorkflowUpdateFailedError && /mode must be open, closed or auto/.test(String((error.cause as Error | undefined)?.message)),
  );
  const released = await breaker.executeUpdate(forceBreakerUpdate, { args: [{ mode: 'auto', actor: 'oncall', reason: 'resolved' }] });
  assert.equal(released.mode, 'closed');
  assert.deepEqual(
    released.audit.map((entry) => entry.action),
    ['force open', 'force auto'],
  );
});

test('it continues as new before its history grows long, keeping its state', async () => {
  const breaker = await timeSkipping.env.client.workflow.start(providerBreakerWorkflow, {
    workflowId: 'breaker-long-lived',
    taskQueue: TASK_QUEUE,
    args: [{ key: 'long-lived', settings, historyEventsLimit: 40 }],
  });
  const firstRun = (await breaker.describe()).runId;
  await breaker.executeUpdate(forceBreakerUpdate, { args: [{ mode: 'closed', actor: 'oncall', reason: 'keep it in' }] });
  for (let index = 0; index < 30; index += 1) {
    await breaker.signal(breakerOutcomesSignal, { settings, outcomes: [{ model: 'm', ok: true, latencyMs: 10 }] });
  }
  const latest = timeSkipping.env.client.workflow.getHandle('breaker-long-lived');
  let state = await latest.query(breakerStateQuery);
  for (let round = 0; round < 50 && (await latest.describe()).runId === firstRun; round += 1) {
    await timeSkipping.env.sleep(1_000);
    state = await latest.query(breakerStateQuery);
  }
  assert.notEqual((await latest.describe()).runId, firstRun, 'a new run took over');
  assert.equal(state.forced, 'closed');
  assert.equal(state.audit[0]?.reason, 'keep it in');
  assert.equal(state.models.m?.successes, 30);
});
