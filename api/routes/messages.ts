import { Router } from 'express';
import type { ConfigStore } from '../../worker/config-store';
import { MessagesRequestSchema } from '../anthropic/messages-request-schema';
import { toAnthropicMessage, toCanonicalRequest } from '../anthropic/convert-messages';
import { createMessagesStream } from '../anthropic/messages-stream';
import { parseBody } from '../parse-body';
import type { RequestRunnerOptions } from '../run-request';
import { serveRequest } from '../serve-request';

/** `POST /v1/messages`: Anthropic-compatible, answered by the same `llmRequestWorkflow`. */
export function messagesRouter(store: ConfigStore, runner: RequestRunnerOptions): Router {
  const router = Router();
  router.post('/v1/messages', async (request, response) => {
    const body = parseBody(MessagesRequestSchema, request.body);
    await serveRequest(request, response, {
      route: 'messages',
      store,
      runner,
      model: body.model,
      toCanonical: (ids) => toCanonicalRequest(body, ids),
      render: toAnthropicMessage,
      stream: body.stream === true ? ({ requestId }) => createMessagesStream({ requestId }) : undefined,
    });
  });
  return router;
}
