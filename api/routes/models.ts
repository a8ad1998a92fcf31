import { Router } from 'express';
import type { GatewayConfig } from '../../common/config-schema';

/**
 * `GET /v1/models`: configured models, routes and task classes, in OpenAI's list format,
 * or Anthropic's when the caller sends `anthropic-version` (as its SDK does).
 */
export function modelsRouter(currentConfig: () => GatewayConfig, createdAt: number): Router {
  const router = Router();
  const createdIso = new Date(createdAt * 1000).toISOString();
  router.get('/v1/models', (request, response) => {
    const config = currentConfig();
    const entries = [
      ...Object.entries(config.models).map(([id, model]) => ({ id, ownedBy: model.provider })),
      ...Object.keys(config.routes).map((id) => ({ id, ownedBy: 'switchyard-route' })),
      ...Object.keys(config.taskClasses).map((id) => ({ id, ownedBy: 'switchyard-task-class' })),
    ];
    if (request.header('anthropic-version')) {
      const data = entries.map(({ id }) => ({ type: 'model', id, display_name: id, created_at: createdIso }));
      response.json({ data, has_more: false, first_id: data[0]?.id ?? null, last_id: data.at(-1)?.id ?? null });
      return;
    }
    response.json({ object: 'list', data: entries.map(({ id, ownedBy }) => ({ id, object: 'model', created: createdAt, owned_by: ownedBy })) });
  });
  return router;
}
