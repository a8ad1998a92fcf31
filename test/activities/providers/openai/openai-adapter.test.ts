import assert from 'node:assert/strict';
import { createOpenAiAdapter } from '../../../../activities/providers/openai/openai-adapter';
import { OPENAI_STREAM_REPLIES, expectOpenAiStreamRequest } from './openai-stream-fixtures';
import { runAdapterContract, type ErrorKind } from '../adapter-contract';
import {
  OPENAI_RAW_FINISH_REASONS,
  OPENAI_WIRE_REPLIES,
  openAiErrorBody,
  openAiRequestExpectations,
} from './openai-wire-fixtures';

const API_KEY = 'sk-test-0123456789abcdef';

/** Error bodies in OpenAI's own wording. */
function errorBody(kind: ErrorKind, apiKey: string | undefined): unknown {
  switch (kind) {
    case 'invalid':
      return openAiErrorBody("Invalid value for 'temperature': expected a number.", 'invalid_request_error', 'invalid_value');
    case 'contextTooLong':
      return openAiErrorBody(
        "This model's maximum context length is 128000 tokens. However, your messages resulted in 130512 tokens.",
        'invalid_request_error',
        'context_length_exceeded',
      );
    case 'auth':
      // OpenAI echoes (part of) the key it was given; the gateway must not pass it on.
      return openAiErrorBody(
        `Incorrect API key provided: ${apiKey}. You can find your API key at https://platform.openai.com/account/api-keys.`,
        'invalid_request_error',
        'invalid_api_key',
      );
    case 'notFound':
      return openAiErrorBody(
        'The model `contract-model` does not exist or you do not have access to it.',
        'invalid_request_error',
        'model_not_found',
      );
    case 'rateLimit':
      return openAiErrorBody(
        'Rate limit reached for contract-model on requests per min (RPM): Limit 3, Used 3, Requested 1.',
        'requests',
        'rate_limit_exceeded',
      );
    case 'server':
      return openAiErrorBody('The server had an error while processing your request. Sorry about that!', 'server_error', null);
    case 'overloaded':
      return openAiErrorBody('The engine is currently overloaded, please try again later.', 'server_error', null);
  }
}

runAdapterContract({
  name: 'OpenAI',
  createAdapter: (settings) => createOpenAiAdapter(settings),
  apiKey: API_KEY,
  baseUrlFor: (origin) => `${origin}/v1`,
  requestPath: '/v1/chat/completions',
  assertHeaders(headers) {
    assert.equal(headers.authorization, `Bearer ${API_KEY}`);
    assert.equal(headers['content-type'], 'application/json');
  },
  replies: OPENAI_WIRE_REPLIES,
  errorBody,
  rawFinishReasons: OPENAI_RAW_FINISH_REASONS,
  streamReplies: OPENAI_STREAM_REPLIES,
  expectStreamRequest: expectOpenAiStreamRequest,
  expectRequest: openAiRequestExpectations('max_completion_tokens'),
});
