// Determinism: recorded histories (scripts/record-replay-histories.ts) must
// replay on the current workflow code without a non-determinism error, the
// current routing code must take the same decisions they recorded, and the
// fixtures themselves are only ever added: each is pinned by its sha256 in
// the manifest, so re-recording one over the old file fails here.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { Worker } from '@temporalio/worker';
import type { CanonicalRequest } from '../../common/request-schema';
import type { CallModelInput, RoutingSnapshot } from '../../common/routing-snapshot-schema';
import { readCallTarget, type RecordedCallModelInput } from '../../common/call-target';
import { getWorkflowBundle } from '../../worker/workflow-bundle';
import type { DeliveryOptions } from '../../workflows/llm-request-workflow';
import { planRoute } from '../../workflows/plan-route';
import { fixturePaths, HISTORIES_DIRECTORY, readFixtures, readManifest, sha256OfFile, type HistoryEvent } from '../support/history-fixtures';

interface Payloads {
  payloads?: { data?: string }[];
}

type RequestEvent = HistoryEvent & {
  markerRecordedEventAttributes?: { details?: { result?: Payloads } };
  activityTaskScheduledEventAttributes?: { activityType?: { name?: string }; input?: Payloads };
};

function decode<T>(payloads: Payloads | undefined, index: number): T | undefined {
  const data = payloads?.payloads?.[index]?.data;
  return data === undefined ? undefined : (JSON.parse(Buffer.from(data, 'base64').toString('utf8')) as T);
}

/** Every workflow type the worker registers has at least one recorded history. */
const WORKFLOW_TYPES = [
  'llmRequestWorkflow',
  'providerBreakerWorkflow',
  'auditLogWorkflow',
  'budgetWorkflow',
  'evalRunWorkflow',
  'evalScoresWorkflow',
  'batchWorkflow',
  'agentRunWorkflow',
];

test('every committed history fixture is in the manifest with its sha256, and none was rewritten or removed', () => {
  const manifest = readManifest();
  const files = fixturePaths();
  for (const path of files) {
    assert.ok(Object.hasOwn(manifest, path), `${path} is not in manifest.json: record fixtures with scripts/record-replay-histories.ts, which adds them`);
    assert.equal(sha256OfFile(join(HISTORIES_DIRECTORY, path)), manifest[path], `${path} was rewritten: fixtures are never changed; record a new set beside it`);
  }
  for (const path of Object.keys(manifest)) assert.ok(existsSync(join(HISTORIES_DIRECTORY, path)), `${path} was removed: fixtures are never removed`);
});

test('every workflow type has a recorded history', () => {
  const recorded = new Set(readFixtures().map((fixture) => fixture.workflowType));
  assert.deepEqual(WORKFLOW_TYPES.filter((type) => !recorded.has(type)), [], 'workflow types without a recorded history');
});

test('every recorded history replays on the current code, continued-as-new and still-open runs included', async () => {
  const fixtures = readFixtures();
  assert.ok(fixtures.length >= 40, `recorded histories are present (${fixtures.length})`);
  const workflowBundle = await getWorkflowBundle();
  for (const { path, history } of fixtures) {
    await Worker.runReplayHistory({ workflowBundle }, history, path);
  }
});

test('the current routing code takes the decisions the recorded request histories took', () => {
  for (const { path, workflowType, history } of readFixtures()) {
    if (workflowType !== 'llmRequestWorkflow') continue;
    const events = history.events as RequestEvent[];
    const started = events[0]?.workflowExecutionStartedEventAttributes;
    const request = decode<CanonicalRequest>(started?.input, 0);
    const delivery = decode<DeliveryOptions>(started?.input, 1) ?? {};
    // In the input when an embedded API took it, else the first local activity's result.
    const snapshot = delivery.snapshot ?? decode<RoutingSnapshot>(events.find((event) => event.markerRecordedEventAttributes)?.markerRecordedEventAttributes?.details?.result, 0);
    assert.ok(request && snapshot, `${path}: the request and its routing snapshot are recorded`);
    const plan = planRoute(request, snapshot, { streaming: delivery.streamTaskQueue !== undefined });
    // The models the workflow called, in order; a call repeated on the normal queue after a lost stream counts once.
    const called: CallModelInput[] = [];
    for (const event of events) {
      const scheduled = event.activityTaskScheduledEventAttributes;
      if (!scheduled || !['callModel', 'streamModel'].includes(scheduled.activityType?.name ?? '')) continue;
      const recorded = decode<RecordedCallModelInput>(scheduled.input, 1);
      assert.ok(recorded, `${path}: ${scheduled.activityType?.name} carries its target`);
      const target = readCallTarget(recorded);
      assert.equal(typeof target.model, 'string', `${path}: the call target names its model`);
      if (called.at(-1)?.model !== target.model) called.push(target);
    }
    const planned = plan.candidates.slice(0, called.length);
    assert.deepEqual(
      called.map((target) => [target.model, target.redact === true]),
      planned.map((candidate) => [candidate.model, candidate.redact === true]),
      `${path}: models called and their redaction`,
    );
  }
});

test('the workflow bundle holds no zod: schemas would be rebuilt for every workflow the worker runs', async () => {
  const { code } = await getWorkflowBundle();
  assert.ok(!code.includes('ZodError'), 'a value import from a zod schema module reached workflow code');
});
