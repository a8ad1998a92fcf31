import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CanonicalRequestSchema } from '../../common/request-schema';
import { CanonicalResponseSchema } from '../../common/response-schema';

const request = CanonicalRequestSchema.parse({
  requestId: 'r1',
  tenantId: 't1',
  model: 'auto',
  messages: [
    { role: 'system', content: 'be brief' },
    { role: 'user', content: [{ type: 'text', text: 'look' }, { type: 'image_url', url: 'https://example.com/a.png' }] },
    { role: 'assistant', content: null, toolCalls: [{ id: 'c1', name: 'lookup', arguments: '{"q":1}' }] },
    { role: 'tool', toolCallId: 'c1', content: '42' },
  ],
  tools: [{ name: 'lookup', parameters: { type: 'object' } }],
  toolChoice: { name: 'lookup' },
  output: { type: 'json_schema', name: 'answer', schema: { type: 'object' }, strict: true },
  sampling: { temperature: 0, maxTokens: 10, stop: ['\n'], seed: 7 },
  tags: { taskClass: 'extract' },
  timeoutMs: 1000,
});

test('a canonical request survives a JSON round trip unchanged (it crosses Temporal as JSON)', () => {
  assert.deepEqual(CanonicalRequestSchema.parse(JSON.parse(JSON.stringify(request))), request);
});

test('a canonical response survives a JSON round trip unchanged', () => {
  const response = CanonicalResponseSchema.parse({
    requestId: 'r1',
    workflowId: 'w1',
    model: 'fallback',
    provider: 'fallback',
    outcome: 'fallback_answer',
    text: 'sorry',
    toolCalls: [],
    finishReason: { unified: 'stop', raw: null },
    refusal: null,
    usage: { inputTokens: 0, outputTokens: 0 },
    fallbacks: 1,
    attempts: [{ position: 1, provider: 'p', model: 'm', outcome: 'failed', failureType: 'Timeout', message: 'x', tries: 2, durationMs: 10 }],
    configVersion: 'sha256:0',
    warnings: [],
    createdAt: '2026-11-25T00:00:00.000Z',
  });
  assert.deepEqual(CanonicalResponseSchema.parse(JSON.parse(JSON.stringify(response))), response);
});

test('unknown roles and oversized inputs are refused', () => {
  assert.equal(CanonicalRequestSchema.safeParse({ ...request, messages: [{ role: 'wizard', content: 'x' }] }).success, false);
  assert.equal(CanonicalRequestSchema.safeParse({ ...request, messages: [] }).success, false);
  assert.equal(CanonicalRequestSchema.safeParse({ ...request, sampling: { maxTokens: 10_000_000 } }).success, false);
});
