import { Router } from 'express';
import type { ConfigStore } from '../../services/config-store';
import { HttpError } from '../../dialects/http-error';
import { ChatCompletionRequestSchema } from '../../dialects/openai/chat-completion-request-schema';
import { createChatCompletionStream } from '../../dialects/openai/chat-completion-stream';
import { toCanonicalRequest, toChatCompletion } from '../../dialects/openai/convert-chat-completion';
import { parseBody } from '../../dialects/parse-body';
import type { RequestRunnerOptions } from '../../client/run-request';
import { serveRequest } from '../serve-request';
import type { LiveRouting } from '../../services/routing-snapshot';

/** `POST /v1/chat/completions`: OpenAI-compatible, answered by `llmRequestWorkflow`. */
export function chatCompletionsRouter(store: ConfigStore, runner: RequestRunnerOptions, live: LiveRouting): Router {
  const router = Router();
  router.post('/v1/chat/completions', async (request, response) => {
    const body = parseBody(ChatCompletionRequestSchema, request.body);
    if (body.stream_options != null && body.stream !== true) {
      throw new HttpError(400, 'invalid_request_error', 'stream_options is only allowed when stream is true', {
        param: 'stream_options',
        code: 'invalid_value',
      });
    }
    const includeUsage = body.stream_options?.include_usage === true;
    await serveRequest(request, response, {
      route: 'chat_completions',
      store,
      runner,
      live,
      model: body.model,
      metadata: body.metadata ?? undefined,
      toCanonical: (ids) => toCanonicalRequest(body, ids),
      render: toChatCompletion,
      stream: body.stream === true ? ({ requestId }) => createChatCompletionStream({ requestId, includeUsage }) : undefined,
    });
  });
  return router;
}
