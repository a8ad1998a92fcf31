import { Router, type Request, type Response } from 'express';
import { sendAnthropicError } from './anthropic-errors';
import type { MockState } from './mock-state';
import { sendOpenAiError } from './openai-errors';
import { anthropicApiKey, bearerToken } from './request-edge';

/** A fixed creation time, so the listing depends only on which models were seen. */
const CREATED_AT = new Date('2025-01-01T00:00:00Z');

/**
 * `GET /v1/models`: the default models plus every model a request named.
 * Both vendors use this path, so the dialect is told by the
 * `anthropic-version` header the Anthropic SDK always sends.
 */
export function modelsRoute(state: MockState): Router {
  const router = Router();
  router.get('/v1/models', (request, response) => {
    if (request.get('anthropic-version') !== undefined) listAnthropicModels(state, request, response);
    else listOpenAiModels(state, request, response);
  });
  return router;
}

function listOpenAiModels(state: MockState, request: Request, response: Response): void {
  if (bearerToken(request) === undefined) {
    sendOpenAiError(response, 401, { message: "You didn't provide an API key.", code: 'missing_api_key' });
    return;
  }
  const created = Math.floor(CREATED_AT.getTime() / 1000);
  response.json({
    object: 'list',
    data: state.knownModels().map((id) => ({ id, object: 'model', created, owned_by: 'switchyard-mock' })),
  });
}

function listAnthropicModels(state: MockState, request: Request, response: Response): void {
  if (anthropicApiKey(request) === undefined) {
    sendAnthropicError(response, 401, { message: 'x-api-key header is required' });
    return;
  }
  const models = state.knownModels();
  response.json({
    data: models.map((id) => ({ type: 'model', id, display_name: id, created_at: CREATED_AT.toISOString() })),
    has_more: false,
    first_id: models[0] ?? null,
    last_id: models.at(-1) ?? null,
  });
}
