// Determinism: recorded histories (scripts/record-replay-histories.ts) must
// replay on the current workflow code without a non-determinism error, and
// the current routing code must take the same decisions they recorded.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { test } from 'node:test';
import { Worker } from '@temporalio/worker';
import type { CanonicalRequest } from '../../common/request-schema';
import type { CallModelInput, RoutingSnapshot } from '../../common/routing-snapshot-schema';
import { getWorkflowBundle } from '../../worker/create-worker';
import type { DeliveryOptions } from '../../workflows/llm-request-workflow';
import { planRoute } from '../../workflows/plan-route';

const DIRECTORY = resolve(__dirname, '../fixtures/histories');

interface Payloads {
  payloads?: { data?: string }[];
}

interface HistoryEvent {
  eventType: string;
  workflowExecutionStartedEventAttributes?: { input?: Payloads };
  markerRecordedEventAttributes?: { details?: { result?: Payloads } };
  activityTaskScheduledEventAttributes?: { activityType?: { name?: string }; input?: Payloads };
}

function histories(): { name: string; history: { events: HistoryEvent[] } }[] {
  return readdirSync(DIRECTORY)
    .filter((file) => file.endsWith('.json'))
    .map((file) => ({ name: file.replace(/\.json$/, ''), history: JSON.parse(readFileSync(resolve(DIRECTORY, file), 'utf8')) }));
}

function decode<T>(payloads: Payloads | undefined, index: number): T | undefined {
  const data = payloads?.payloads?.[index]?.data;
  return data === undefined ? undefined : (JSON.parse(Buffer.from(data, 'base64').toString('utf8')) as T);
}

test('every recorded llmRequestWorkflow history replays on the current code', async () => {
  const recorded = histories();
  assert.ok(recorded.length >= 4, 'recorded histories are present');
  const workflowBundle = await getWorkflowBundle();
  for (const { name, history } of recorded) {
    await Worker.runReplayHistory({ workflowBundle }, history, name);
  }
});

test('every recorded batch and agent run history replays on the current code, continued-as-new runs included', async () => {
  const directory = resolve(DIRECTORY, 'jobs');
  const files = readdirSync(directory).filter((file) => file.endsWith('.json'));
  assert.ok(files.some((file) => file.startsWith('batch-')) && files.some((file) => file.startsWith('agent-run-')), 'batch and agent run histories are present');
  const workflowBundle = await getWorkflowBundle();
  for (const file of files) {
    const history = JSON.parse(readFileSync(resolve(directory, file), 'utf8')) as { events: { eventType: string }[] };
    assert.ok(['EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED', 'EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW'].includes(history.events.at(-1)?.eventType ?? ''), `${file} ends`);
    await Worker.runReplayHistory({ workflowBundle }, history, file);
  }
});

test('the current routing code takes the decisions the recorded histories took', () => {
  for (const { name, history } of histories()) {
    const started = history.events[0]?.workflowExecutionStartedEventAttributes;
    const request = decode<CanonicalRequest>(started?.input, 0);
    const delivery = decode<DeliveryOptions>(started?.input, 1) ?? {};
    const snapshot = decode<RoutingSnapshot>(
      history.events.find((event) => event.markerRecordedEventAttributes)?.markerRecordedEventAttributes?.details?.result,
      0,
    );
    assert.ok(request && snapshot, `${name}: the request and its routing snapshot are recorded`);
    const plan = planRoute(request, snapshot, { streaming: delivery.streamTaskQueue !== undefined });
    // The models the workflow called, in order; a call repeated on the normal queue after a lost stream counts once.
    const called: CallModelInput[] = [];
    for (const event of history.events) {
      const scheduled = event.activityTaskScheduledEventAttributes;
      if (!scheduled || !['callModel', 'streamModel'].includes(scheduled.activityType?.name ?? '')) continue;
      const target = decode<CallModelInput>(scheduled.input, 1);
      if (target && called.at(-1)?.modelId !== target.modelId) called.push(target);
    }
    const planned = plan.candidates.slice(0, called.length);
    assert.deepEqual(
      called.map((target) => [target.modelId, target.redact === true]),
      planned.map((candidate) => [candidate.modelId, candidate.redact === true]),
      `${name}: models called and their redaction`,
    );
  }
});

test('the workflow bundle holds no zod: schemas would be rebuilt for every workflow the worker runs', async () => {
  const { code } = await getWorkflowBundle();
  assert.ok(!code.includes('ZodError'), 'a value import from a zod schema module reached workflow code');
});
