// `execution.providerCalls: local`: provider calls run as local activities
// inside the workflow task, with the same routing, retries and failover.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type OpenAI from 'openai';
import type { Harness } from '../support/gateway-harness';
import { harnessPerFile } from '../support/harness-per-file';

let harness: Harness;
let openai: OpenAI;

harnessPerFile((started) => ({ harness, openai } = started), { configPatch: { execution: { providerCalls: 'local' } } });

async function eventKinds(workflowId: string): Promise<{ scheduled: number; markers: number }> {
  const history = await harness.client.workflow.getHandle(workflowId).fetchHistory();
  const events = history.events ?? [];
  return {
    scheduled: events.filter((event) => event.activityTaskScheduledEventAttributes).length,
    // Local activity markers only (a version patch is a marker too).
    markers: events.filter((event) => event.markerRecordedEventAttributes?.markerName === 'core_local_activity').length,
  };
}

test('a request is answered with its provider call as a local activity: markers, no scheduled activity', async () => {
  const { data, response } = await openai.chat.completions.create({ model: 'model-a', messages: [{ role: 'user', content: 'local call' }] }).withResponse();
  assert.equal(data.model, 'model-a');
  assert.match(data.choices[0]?.message.content ?? '', /local call/);
  // The provider call is recorded as a marker and no activity task is scheduled (the embedded API handed the
  // workflow its routing snapshot in its input, so that takes no local activity either).
  assert.deepEqual(await eventKinds(response.headers.get('x-gateway-workflow-id') ?? ''), { scheduled: 0, markers: 1 });
});

test('retries and failover behave as with regular activities', async () => {
  await harness.setFault('model-a', { status: 503 });
  const { data } = await openai.chat.completions.create({ model: 'model-a', messages: [{ role: 'user', content: 'fall over locally' }] }).withResponse();
  assert.equal(data.model, 'model-b');
  // One try of model-a (a 503 fails over at once while another model follows), then model-b.
  assert.deepEqual(await harness.calls(), { 'model-a': 1, 'model-b': 1 });
});

test('a dropped connection is retried on the same model, as with regular activities', async () => {
  await harness.resetCalls();
  await harness.setFault('model-a', { cutStreamAfterChunks: 0, times: 1 });
  const { data } = await openai.chat.completions.create({ model: 'model-a', messages: [{ role: 'user', content: 'retry locally' }] }).withResponse();
  assert.equal(data.model, 'model-a');
  assert.deepEqual(await harness.calls(), { 'model-a': 2 });
});
