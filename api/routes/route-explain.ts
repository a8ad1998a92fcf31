import { Router } from 'express';
import type { ConfigStore } from '../../services/config-store';
import { assertRequestableModel, explainRoute } from '../explain-route';
import type { LiveRouting } from '../../services/routing-snapshot';
import { ChatCompletionRequestSchema } from '../../dialects/openai/chat-completion-request-schema';
import { toCanonicalRequest } from '../../dialects/openai/convert-chat-completion';
import { parseBody } from '../../dialects/parse-body';
import { readPolicyTags } from '../policy-tags';

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
    response.json({
      object: 'gateway.route_explanation',
      config_version: plan.configVersion,
      model,
      resolved_from: plan.resolvedFrom,
      strategy: plan.strategy,
      task_class: plan.taskClass ?? null,
      criticality: plan.criticality ?? null,
      sensitivity: plan.sensitivity ?? null,
      prompt_tokens: plan.promptTokens ?? null,
      findings: plan.findings ?? {},
      required_capabilities: plan.required ?? [],
      refused: plan.refused ?? null,
      candidates: plan.candidates.map((candidate) => ({
        model: candidate.model,
        provider: candidate.provider,
        reason: candidate.reason,
        score: candidate.score ?? null,
        parts: candidate.parts ?? null,
        estimated_cost_usd: candidate.estimatedCostUsd ?? null,
        redacted: candidate.redact === true,
      })),
      rejected: plan.rejected.map((model) => ({ model: model.model, reason: model.reason })),
    });
  });
  return router;
}
