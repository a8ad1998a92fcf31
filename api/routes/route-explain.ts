import { Router } from 'express';
import type { ConfigStore } from '../../services/config-store';
import { assertRequestableModel, explainRoute } from '../explain-route';
import type { LiveRouting } from '../../services/routing-snapshot';
import { ChatCompletionRequestSchema } from '../../dialects/openai/chat-completion-request-schema';
import { toCanonicalRequest } from '../../dialects/openai/convert-chat-completion';
import { parseBody } from '../../dialects/parse-body';
import { readPolicyTags } from '../policy-tags';
import { toRouteExplanation } from '../../dialects/gateway-resources';

/**
 * `POST /v1/route/explain`: the route a chat completion body (with the same
 * `x-gateway-*` headers or `metadata`) would take, calling no model and
 * starting nothing: the assessment, the candidates with their scores, the
 * rejected models with their reasons, and the config version.
 */
export function routeExplainRouter(store: ConfigStore, live: LiveRouting): Router {
  const router = Router();
  router.post('/v1/route/explain', async (request, response) => {
    const body = parseBody(ChatCompletionRequestSchema, request.body);
    const loaded = store.loaded;
    const { config } = loaded;
    const model = body.model;
    assertRequestableModel(config, model);
    const tenantId = response.locals.tenantId as string;
    const canonical = {
      ...toCanonicalRequest(body, { requestId: 'route-explain', tenantId }),
      tags: readPolicyTags(request, body.metadata ?? undefined, config, tenantId),
    };
    const plan = await explainRoute(canonical, loaded, live, { streaming: body.stream === true });
    response.json(toRouteExplanation(model, plan));
  });
  return router;
}
