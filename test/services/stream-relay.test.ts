import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { StreamDelta } from '../../activities/providers/model-adapter';
import type { CanonicalResponse } from '../../common/response-schema';
import { StreamRelay } from '../../services/stream-relay';

const TARGET = { model: 'm', provider: 'p', upstreamModel: 'u' };

test('pieces reach the listener of their workflow only, and are counted', () => {
  const relay = new StreamRelay();
  const received: StreamDelta[] = [];
  const listener = relay.listen('wf-1', { onDelta: (delta) => received.push(delta) });
  assert.ok(listener);
  const channel = relay.channel('wf-1');
  channel.send({ type: 'text', text: 'a' }, TARGET);
  relay.channel('wf-2').send({ type: 'text', text: 'other' }, TARGET);
  channel.send({ type: 'text', text: 'b' }, TARGET);
  assert.deepEqual(received, [
    { type: 'text', text: 'a' },
    { type: 'text', text: 'b' },
  ]);
  assert.equal(channel.deltasSent, 2);
  assert.equal(relay.channel('wf-2').deltasSent, 0);
});

test('a second listener for the same request is refused', () => {
  const relay = new StreamRelay();
  assert.ok(relay.listen('wf-1', { onDelta: () => undefined }));
  assert.equal(relay.listen('wf-1', { onDelta: () => undefined }), undefined);
});

test('after the listener leaves, pieces are dropped and the request is forgotten', () => {
  const relay = new StreamRelay();
  const received: StreamDelta[] = [];
  const listener = relay.listen('wf-1', { onDelta: (delta) => received.push(delta) });
  listener?.close();
  relay.channel('wf-1').send({ type: 'text', text: 'late' }, TARGET);
  assert.deepEqual(received, []);
  assert.equal(relay.size, 0);
  // A closed handle never removes a newer listener.
  const newer = relay.listen('wf-1', { onDelta: () => undefined });
  listener?.close();
  assert.ok(newer);
  assert.equal(relay.size, 1);
});

test('the complete answer reaches the listener once, and stays for a retry of the call that gave it', () => {
  const relay = new StreamRelay();
  const answers: string[] = [];
  relay.listen('wf-1', { onDelta: () => undefined, onAnswer: (response) => answers.push(response.workflowId) });
  const channel = relay.channel('wf-1');
  assert.equal(channel.answered, undefined);
  const result = { output: { text: 'hi', toolCalls: [], finishReason: { unified: 'stop' as const, raw: 'stop' }, refusal: null, usage: { inputTokens: 1, outputTokens: 1 }, warnings: [] }, tries: 1 };
  channel.answer(result, { workflowId: 'wf-1' } as CanonicalResponse);
  assert.deepEqual(answers, ['wf-1']);
  assert.equal(relay.channel('wf-1').answered, result);
  assert.equal(relay.channel('wf-2').answered, undefined);
});
