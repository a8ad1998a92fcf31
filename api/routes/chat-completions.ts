import { createHash } from 'node:crypto';
import { Router } from 'express';
import type { GatewayConfig } from '../../common/config-schema';
import { AUTO_ROUTE } from '../../common/constants';
import { REQUEST_LIMITS } from '../../common/request-schema';
import { HttpError } from '../http-error';
import { ChatCompletionRequestSchema } from '../openai/chat-completion-request-schema';
import { toCanonicalRequest, toChatCompletion } from '../openai/convert-chat-completion';
import { awaitResponse, startRequest, workflowIdFor, type RequestRunnerOptions } from '../run-request';
import { requestStatusBody } from './requests';
import { parseBody } from '../parse-body';

/** `POST /v1/chat/completions`: OpenAI-compatible, answered by `llmRequestWorkflow`. */
export function chatCompletionsRouter(config: GatewayConfig, runner: RequestRunnerOptions): Router {
  const router = Router();
  router.post('/v1/chat/completions', async (request, response) => {
    const body = parseBody(ChatCompletionRequestSchema, request.body);
    if (body.stream) {
      throw new HttpError(400, 'invalid_request_error', 'stream: true is not supported yet; send stream: false', {
        param: 'stream',
        code: 'unsupported_parameter',
      });
    }
    if (body.model !== AUTO_ROUTE && !config.models[body.model] && !config.routes[body.model]) {
      throw new HttpError(404, 'not_found_error', `The model \`${body.model}\` does not exist`, {
        param: 'model',
        code: 'model_not_found',
      });
    }
    const tenantId = response.locals.tenantId as string;
    const idempotencyKey = request.header('idempotency-key') ?? undefined;
    if (idempotencyKey !== undefined && (idempotencyKey.length === 0 || idempotencyKey.length > 256)) {
      throw new HttpError(400, 'invalid_request_error', 'Idempotency-Key must be 1 to 256 characters');
    }
    const { requestId, workflowId } = workflowIdFor(tenantId, idempotencyKey);
    const canonical = { ...toCanonicalRequest(body, { requestId, tenantId }), timeoutMs: parseTimeoutHeader(request.header('x-gateway-timeout-ms')) };
    const idempotency = idempotencyKey === undefined ? undefined : { bodySha256: sha256(JSON.stringify(request.body)) };
    const handle = await startRequest(runner, canonical, workflowId, idempotency);
    if (wantsAsync(request.header('prefer'), request.header('x-gateway-async'))) {
      response
        .status(202)
        .set({ location: `/v1/requests/${workflowId}`, 'x-gateway-workflow-id': workflowId })
        .json(await requestStatusBody(handle));
      return;
    }
    const result = await awaitResponse(handle);
    response
      .set({
        'x-gateway-model': result.model,
        'x-gateway-provider': result.provider,
        'x-gateway-fallbacks': String(result.fallbacks),
        'x-gateway-outcome': result.outcome,
        'x-gateway-workflow-id': result.workflowId,
        'x-request-id': result.requestId,
      })
      .json(toChatCompletion(result));
  });
  return router;
}

/** `Prefer: respond-async` (RFC 7240) or `x-gateway-async: true` asks for 202 instead of waiting. */
function wantsAsync(prefer: string | undefined, flag: string | undefined): boolean {
  return /\brespond-async\b/i.test(prefer ?? '') || flag === 'true' || flag === '1';
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** `x-gateway-timeout-ms`: the caller's deadline for the whole chain, fallbacks included. */
function parseTimeoutHeader(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const timeoutMs = Number(value);
  if (!Number.isInteger(timeoutMs) || timeoutMs < 100 || timeoutMs > REQUEST_LIMITS.maxTimeoutMs) {
    throw new HttpError(400, 'invalid_request_error', `x-gateway-timeout-ms must be an integer from 100 to ${REQUEST_LIMITS.maxTimeoutMs}`, {
      param: 'x-gateway-timeout-ms',
      code: 'invalid_value',
    });
  }
  return timeoutMs;
}
