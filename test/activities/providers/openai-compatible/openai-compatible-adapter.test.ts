import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createOpenAiCompatibleAdapter } from '../../../../activities/providers/openai-compatible/openai-compatible-adapter';
import { CanonicalRequestSchema } from '../../../../common/request-schema';
import { runAdapterContract, type ErrorKind } from '../adapter-contract';
import { startFixtureServer, type FixtureServer } from '../fixture-server';
import {
  OPENAI_RAW_FINISH_REASONS,
  OPENAI_WIRE_REPLIES,
  chatCompletion,
  openAiErrorBody,
  openAiRequestExpectations,
} from '../openai/openai-wire-fixtures';
import { OPENAI_STREAM_REPLIES, expectOpenAiStreamRequest, textChunks } from '../openai/openai-stream-fixtures';

/** Error bodies as vLLM's OpenAI server words them (numeric codes, Python exception names). */
function errorBody(kind: ErrorKind): unknown {
  switch (kind) {
    case 'invalid':
      return openAiErrorBody('temperature must be non-negative, got -1.0.', 'BadRequestError', 400);
    case 'contextTooLong':
      return openAiErrorBody(
        "This model's maximum context length is 4096 tokens. However, you requested 5000 tokens (4000 in the messages, 1000 in the completion). Please reduce the length of the messages or completion.",
        'BadRequestError',
        400,
      );
    case 'auth':
      return { error: 'Unauthorized' };
    case 'notFound':
      return openAiErrorBody('The model `contract-model` does not exist.', 'NotFoundError', 404);
    case 'rateLimit':
      return openAiErrorBody('Too many requests.', 'RateLimitError', 429);
    case 'server':
      return openAiErrorBody('EngineCore encountered an issue.', 'InternalServerError', 500);
    case 'overloaded':
      return openAiErrorBody('The server is overloaded.', 'ServiceUnavailableError', 529);
  }
}

runAdapterContract({
  name: 'OpenAI-compatible',
  createAdapter: createOpenAiCompatibleAdapter,
  // Self-hosted servers usually run without a key.
  apiKey: undefined,
  baseUrlFor: (origin) => `${origin}/v1`,
  requestPath: '/v1/chat/completions',
  assertHeaders(headers) {
    assert.equal(headers.authorization, 'Bearer not-needed');
  },
  replies: OPENAI_WIRE_REPLIES,
  errorBody,
  rawFinishReasons: OPENAI_RAW_FINISH_REASONS,
  streamReplies: OPENAI_STREAM_REPLIES,
  expectStreamRequest: expectOpenAiStreamRequest,
  expectRequest: openAiRequestExpectations('max_tokens'),
});

describe('OpenAI-compatible adapter with lenient servers', () => {
  let server: FixtureServer;
  before(async () => {
    server = await startFixtureServer();
  });
  after(() => server.close());

  const request = CanonicalRequestSchema.parse({
    requestId: 'req-1',
    tenantId: 'tenant-1',
    model: 'local',
    messages: [{ role: 'user', content: 'Hi' }],
  });

  test('sends the configured key when the server wants one', async () => {
    const adapter = createOpenAiCompatibleAdapter({
      providerId: 'vllm',
      baseUrl: `${server.origin}/v1`,
      apiKey: 'local-secret-key',
      requestTimeoutMs: 5_000,
    });
    server.reply({ kind: 'json', status: 200, body: chatCompletion({ content: 'Hello' }, 'stop', { inputTokens: 1, outputTokens: 1 }) });
    await adapter.complete(request, { upstreamModel: 'llama' });
    assert.equal(server.requests[0]?.headers.authorization, 'Bearer local-secret-key');
  });

  test('counts zero usage with a warning when the server reports none', async () => {
    const adapter = createOpenAiCompatibleAdapter({
      providerId: 'ollama',
      baseUrl: `${server.origin}/v1`,
      apiKey: undefined,
      requestTimeoutMs: 5_000,
    });
    server.reply({ kind: 'json', status: 200, body: chatCompletion({ content: 'Hello' }, 'stop', null) });
    const output = await adapter.complete(request, { upstreamModel: 'llama' });
    assert.equal(output.text, 'Hello');
    assert.deepEqual(output.usage, { inputTokens: 0, outputTokens: 0 });
    assert.equal(output.warnings.length, 1);
    assert.match(output.warnings[0] ?? '', /no token usage/);
  });

  test('counts zero usage with a warning when a stream reports none', async () => {
    const adapter = createOpenAiCompatibleAdapter({
      providerId: 'ollama',
      baseUrl: `${server.origin}/v1`,
      apiKey: undefined,
      requestTimeoutMs: 5_000,
    });
    server.reply({ kind: 'sse', events: textChunks(['Hel', 'lo'], 'stop', null), end: 'complete' });
    const texts: string[] = [];
    const output = await adapter.stream(request, {
      upstreamModel: 'llama',
      onDelta: (delta) => {
        if (delta.type === 'text') texts.push(delta.text);
      },
    });
    assert.deepEqual(texts, ['Hel', 'lo']);
    assert.equal(output.text, 'Hello');
    assert.deepEqual(output.usage, { inputTokens: 0, outputTokens: 0 });
    assert.equal(output.warnings.length, 1);
    assert.match(output.warnings[0] ?? '', /no token usage/);
  });
});
