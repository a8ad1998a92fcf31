import { Router } from 'express';
import type { ConfigStore } from '../../services/config-store';
import { MessagesRequestSchema } from '../../dialects/anthropic/messages-request-schema';
import { toAnthropicMessage, toCanonicalRequest } from '../../dialects/anthropic/convert-messages';
import { createMessagesStream } from '../../dialects/anthropic/messages-stream';
import { parseBody } from '../../dialects/parse-body';
import type { RequestRunnerOptions } from '../../client/run-request';
import { serveRequest } from '../serve-request';
import type { LiveRouting } from '../../services/routing-snapshot';

/** `POST /v1/messages`: Anthropic-compatible, answered by the same `llmRequestWorkflow`. */
export function messagesRouter(store: ConfigStore, runner: RequestRunnerOptions, live: LiveRouting): Router {
  const router = Router();
  router.post('/v1/messages', async (request, response) => {
    const body = parseBody(MessagesRequestSchema, request.body);
    await serveRequest(request, response, {
      route: 'messages',
      store,
      runner,
      live,
      model: body.model,
      toCanonical: (ids) => toCanonicalRequest(body, ids),
      render: toAnthropicMessage,
      stream: body.stream === true ? ({ requestId }) => createMessagesStream({ requestId }) : undefined,
    });
  });
  return router;
}
