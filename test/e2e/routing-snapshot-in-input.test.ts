// With the worker in its process (the embedded default), the API takes each
// request's routing snapshot itself, from the worker's own call statistics
// and the shared boards, and hands it to the workflow in its input: no local
// activity and no activation are spent taking it, and it is still recorded
// (in the input) so replay routes as the run did.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type OpenAI from 'openai';
import type { Payload } from '@temporalio/common';
import type { Harness } from '../support/gateway-harness';
import { harnessPerFile } from '../support/harness-per-file';
import { dataConverterFor, decodeHistoryPayload } from '../../runtime/data-converter';
import { readSettings } from '../../runtime/settings';
import type { DeliveryOptions } from '../../workflows/llm-request-workflow';

let harness: Harness;
let openai: OpenAI;

harnessPerFile((started) => ({ harness, openai } = started));

async function recorded(workflowId: string) {
  const history = await harness.client.workflow.getHandle(workflowId).fetchHistory();
  const events = history.events ?? [];
  const input = events[0]?.workflowExecutionStartedEventAttributes?.input?.payloads ?? [];
  const delivery = (await decodeHistoryPayload<DeliveryOptions>(input[1] as Payload | undefined, dataConverterFor(readSettings(harness.env)))) ?? {};
  return {
    delivery,
    markers: events.filter((event) => event.markerRecordedEventAttributes?.markerName === 'core_local_activity').length,
    workflowTasks: events.filter((event) => event.workflowTaskCompletedEventAttributes).length,
  };
}

test("an HTTP request's routing snapshot comes in the workflow's input, with the worker's call statistics", async () => {
  const first = await openai.chat.completions.create({ model: 'model-a', messages: [{ role: 'user', content: 'snapshot one' }] }).withResponse();
  assert.equal(first.data.model, 'model-a');
  const second = await openai.chat.completions.create({ model: 'model-a', messages: [{ role: 'user', content: 'snapshot two' }] }).withResponse();
  const { delivery, markers, workflowTasks } = await recorded(second.response.headers.get('x-gateway-workflow-id') ?? '');
  assert.ok(delivery.snapshot, 'the input holds the routing snapshot');
  assert.equal(delivery.prompt, undefined, 'the snapshot already holds the prompt assessment');
  assert.ok(delivery.snapshot.assessment && delivery.snapshot.assessment.promptTokens > 0, 'the snapshot carries the prompt assessment');
  // What the worker observed of the first call: only a worker's statistics have it.
  assert.ok((delivery.snapshot.observed?.['model-a']?.successes ?? 0) >= 1, "the snapshot holds the worker's call statistics");
  assert.equal(markers, 0, 'no local activity took a snapshot');
  // One workflow task to schedule the call, one to answer: none spent on the snapshot.
  assert.equal(workflowTasks, 2);
});
