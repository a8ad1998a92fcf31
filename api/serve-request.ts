import { createHash } from 'node:crypto';
import type { Request, Response } from 'express';
import type { GatewayConfig } from '../common/config-schema';
import { AUTO_ROUTE } from '../common/constants';
import { REQUEST_LIMITS, type CanonicalRequest } from '../common/request-schema';
import type { CanonicalResponse } from '../common/response-schema';
import { HttpError } from './http-error';
import { requestStatusBody } from './routes/requests';
import { awaitResponse, startRequest, workflowIdFor, type RequestRunnerOptions } from './run-request';

/**
 * What every dialect's route does once its body is validated: check the
 * model, derive ids from the idempotency key, start the workflow, then answer
 * 202 (async) or wait and render the canonical response in the dialect.
 */
export async function serveRequest(
  request: Request,
  response: Response,
  options: {
    config: GatewayConfig;
    runner: RequestRunnerOptions;
    model: string;
    toCanonical: (ids: { requestId: string; tenantId: string }) => CanonicalRequest;
    render: (result: CanonicalResponse) => unknown;
  },
): Promise<void> {
  const { config, model } = options;
  if (model !== AUTO_ROUTE && !config.models[model] && !config.routes[model]) {
    throw new HttpError(404, 'not_found_error', `The model \`${model}\` does not exist`, { param: 'model', code: 'model_not_found' });
  }
  const tenantId = response.locals.tenantId as string;
  const idempotencyKey = request.header('idempotency-key') ?? undefined;
  if (idempotencyKey !== undefined && (idempotencyKey.length === 0 || idempotencyKey.length > 256)) {
    throw new HttpError(400, 'invalid_request_error', 'Idempotency-Key must be 1 to 256 characters');
  }
  const { requestId, workflowId } = workflowIdFor(tenantId, idempotencyKey);
  const canonical = { ...options.toCanonical({ requestId, tenantId }), timeoutMs: parseTimeoutHeader(request.header('x-gateway-timeout-ms')) };
  const idempotency =
    idempotencyKey === undefined
      ? undefined
      : { bodySha256: createHash('sha256').update(`${request.path}\n${JSON.stringify(request.body)}`).digest('hex') };
  const handle = await startRequest(options.runner, canonical, workflowId, idempotency);
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
    .json(options.render(result));
}

/** `Prefer: respond-async` (RFC 7240) or `x-gateway-async: true` asks for 202 instead of waiting. */
function wantsAsync(prefer: string | undefined, flag: string | undefined): boolean {
  return /\brespond-async\b/i.test(prefer ?? '') || flag === 'true' || flag === '1';
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
