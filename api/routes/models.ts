import { Router } from 'express';
import type { GatewayConfig } from '../../common/config-schema';

/**
 * `GET /v1/models`: configured models and routes, in OpenAI's list format,
 * or Anthropic's when the caller sends `anthropic-version` (as its SDK does).
 */
export function modelsRouter(config: GatewayConfig, createdAt: number): Router {
  const router = Router();
  const entries = [
    ...Object.entries(config.models).map(([id, model]) => ({ id, ownedBy: model.provider })),
    ...Object.keys(config.routes).map((id) => ({ id, ownedBy: 'switchyard-route' })),
  ];
  const openAiList = { object: 'list', data: entries.map(({ id, ownedBy }) => ({ id, object: 'model', created: createdAt, owned_by: ownedBy })) };
  const createdIso = new Date(createdAt * 1000).toISOString();
  const anthropicData = entries.map(({ id }) => ({ type: 'model', id, display_name: id, created_at: createdIso }));
  const anthropicList = {
    data: anthropicData,
    has_more: false,
    first_id: anthropicData[0]?.id ?? null,
    last_id: anthropicData.at(-1)?.id ?? null,
  };
  router.get('/v1/models', (request, response) => {
    response.json(request.header('anthropic-version') ? anthropicList : openAiList);
  });
  return router;
}
