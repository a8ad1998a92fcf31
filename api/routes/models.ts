import { Router } from 'express';
import type { GatewayConfig } from '../../common/config-schema';

/** `GET /v1/models`: configured models and routes in OpenAI's list format. */
export function modelsRouter(config: GatewayConfig, createdAt: number): Router {
  const router = Router();
  const data = [
    ...Object.entries(config.models).map(([id, model]) => ({ id, object: 'model', created: createdAt, owned_by: model.provider })),
    ...Object.keys(config.routes).map((id) => ({ id, object: 'model', created: createdAt, owned_by: 'switchyard-route' })),
  ];
  router.get('/v1/models', (_request, response) => {
    response.json({ object: 'list', data });
  });
  return router;
}
