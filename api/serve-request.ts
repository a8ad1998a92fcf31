import { createHash } from 'node:crypto';
import type { Request, Response } from 'express';
import type { GatewayConfig } from '../common/config-schema';
import type { ConfigStore } from '../services/config-store';
import { REQUEST_LIMITS, type CanonicalRequest } from '../common/request-schema';
import type { CanonicalResponse } from '../common/response-schema';
import { assertRequestableModel, assertRoutable, explainRoute } from './explain-route';
import { routeHeader } from '../dialects/gateway-metadata';
import { formatUsd } from '../common/pricing';
import { HttpError } from '../dialects/http-error';
import { readPolicyTags } from './policy-tags';
import { logRequest, type LlmRoute } from './request-log';
import { metrics } from '../runtime/metrics';
import { callerContext, inSpan, SpanKind } from '../runtime/tracing';
import { acceptedStatusBody, requestStatusBody } from './routes/requests';
import {
  awaitResponse,
  startRequest,
  startStreamedRequest,
  workflowIdFor,
  type IdempotencyCheck,
  type RequestRunnerOptions,
  type StreamingOptions,
} from '../client/run-request';
import type { StreamRenderer } from '../dialects/stream-renderer';
import { takeAssessedRoutingSnapshot, type LiveRouting } from '../services/routing-snapshot';
import type { LoadedConfig } from '../runtime/load-config';
import type { PromptAssessment } from '../common/routing-snapshot-schema';
import type { DeliveryOptions } from '../workflows/llm-request-workflow';

/**
 * What every dialect's route does once its body is validated: check the
 * model, derive ids from the idempotency key, start the workflow, then answer
 * 202 (async) or wait and render the canonical response in the dialect.
 */
export async function serveRequest(
  request: Request,
  response: Response,
  options: {
    store: ConfigStore;
    runner: RequestRunnerOptions;
    /** The shared boards routing reads: the pre-check plans as the workflow will. */
    live: LiveRouting;
    model: string;
    /** The body's `metadata`, where routing tags may be given instead of headers. */
    metadata?: Readonly<Record<string, string>>;
    toCanonical: (ids: { requestId: string; tenantId: string }) => CanonicalRequest;
    render: (result: CanonicalResponse) => unknown;
    /** Set when the caller asked for a stream: the dialect's SSE renderer. */
    stream?: (ids: { requestId: string }) => StreamRenderer;
    /** The route, as a metric label. */
    route: LlmRoute;
  },
): Promise<void> {
  const { model } = options;
  const loaded = options.store.loaded;
  const { config } = loaded;
  assertRequestableModel(config, model);
  const tenantId = response.locals.tenantId as string;
  const tags = readPolicyTags(request, options.metadata, config, tenantId);
  const idempotencyKey = request.header('idempotency-key') ?? undefined;
  if (idempotencyKey !== undefined && (idempotencyKey.length === 0 || idempotencyKey.length > 256)) {
    throw new HttpError(400, 'invalid_request_error', 'Idempotency-Key must be 1 to 256 characters');
  }
  const { requestId, workflowId } = workflowIdFor(tenantId, idempotencyKey);
  const canonical = {
    ...options.toCanonical({ requestId, tenantId }),
    tags,
    timeoutMs: parseTimeoutHeader(request.header('x-gateway-timeout-ms')),
  };
  // Policy refusals and requests no model may serve are answered before anything starts. A latency
  // budget is the workflow's to apply: it depends on the latency the workers observed, unknown here.
  const { latencyBudgetMs: _observedByWorkers, ...staticTags } = canonical.tags;
  const plan = await explainRoute({ ...canonical, tags: staticTags }, loaded, options.live, { streaming: options.stream !== undefined });
  assertRoutable(plan);
  // The workflow's snapshot takes the prompt's tokens and findings from here: a prompt is tokenised and scanned once.
  const prompt: PromptAssessment | undefined = plan.promptTokens === undefined ? undefined : { promptTokens: plan.promptTokens, findings: plan.findings ?? {} };
  const routing = routingInput(canonical, loaded, options.live, prompt);
  const idempotency =
    idempotencyKey === undefined
      ? undefined
      : { bodySha256: idempotencyHash(request) };
  const wantsAsyncAnswer = wantsAsync(request.header('prefer'), request.header('x-gateway-async'));
  const started = performance.now();
  const seconds = () => (performance.now() - started) / 1000;
  metrics.requestsInFlight.inc({ route: options.route });
  try {
    // The trace of the request starts here; Temporal's interceptors carry it into the workflow and its activities.
    await inSpan(
      `${request.method} ${request.path}`,
      SpanKind.SERVER,
      { 'http.request.method': request.method, 'http.route': request.path, 'gen_ai.request.model': canonical.model, 'switchyard.workflow_id': workflowId },
      () => dispatch({ request, response, options, canonical, workflowId, requestId, tenantId, idempotency, wantsAsyncAnswer, config, seconds, delivery: { ...routing, entry: wantsAsyncAnswer ? 'async' : options.route === 'messages' ? 'messages' : 'chat' } }),
      // A caller's `traceparent` makes this span its child: one trace from the caller to the provider.
      callerContext(request.headers),
    );
  } catch (error) {
    const status = error instanceof HttpError ? error.status : 500;
    logRequest({ route: options.route, tenantId, workflowId, config, request: canonical, status, error: error instanceof Error ? error.message : String(error), seconds: seconds() });
    throw error;
  } finally {
    metrics.requestsInFlight.dec({ route: options.route });
  }
}

/**
 * What the workflow needs to take its routing snapshot: with a worker's call
 * statistics in this process, the snapshot itself, taken as that worker's
 * `getRoutingSnapshot` would (the request's own tags, latency budget
 * included); else the prompt's assessment, so the worker does not repeat it.
 */
function routingInput(
  canonical: CanonicalRequest,
  loaded: LoadedConfig,
  live: LiveRouting,
  prompt: PromptAssessment | undefined,
): Pick<DeliveryOptions, 'prompt' | 'snapshot'> {
  if (live.stats === undefined || prompt === undefined) return prompt === undefined ? {} : { prompt };
  return { snapshot: takeAssessedRoutingSnapshot(loaded, live, canonical, prompt) };
}

/** Headers that change how a request is served: the same key with other values is another request. */
const ROUTING_HEADERS = [
  'x-gateway-task-class',
  'x-gateway-sensitivity',
  'x-gateway-criticality',
  'x-gateway-latency-budget-ms',
  'x-gateway-cost-ceiling-usd',
  'x-gateway-capabilities',
  'x-gateway-feature',
  'x-gateway-cache',
  'x-gateway-timeout-ms',
] as const;

/**
 * What an idempotency key is bound to: the path, the body and the routing
 * headers. Only the headers a request sets are hashed, so a request without
 * any hashes as it did before they counted (a retry across a deploy still matches).
 */
function idempotencyHash(request: Request): string {
  const headers = ROUTING_HEADERS.flatMap((name) => {
    const value = request.header(name);
    return value === undefined ? [] : [`${name}: ${value.trim()}`];
  });
  const routing = headers.length === 0 ? '' : `\n${headers.join('\n')}`;
  return createHash('sha256').update(`${request.path}\n${JSON.stringify(request.body)}${routing}`).digest('hex');
}

/** Everything `serveRequest` settled before dispatching a request. */
interface DispatchContext {
  request: Request;
  response: Response;
  options: Parameters<typeof serveRequest>[2];
  canonical: CanonicalRequest;
  workflowId: string;
  requestId: string;
  tenantId: string;
  idempotency: IdempotencyCheck | undefined;
  wantsAsyncAnswer: boolean;
  config: GatewayConfig;
  /** Seconds since the request was received. */
  seconds: () => number;
  /** What the workflow gets besides the request: the prompt's assessment. */
  delivery: Omit<DeliveryOptions, 'streamTaskQueue'>;
}

/** Starts the workflow and answers: as a stream, with 202 (async), or with the whole answer. */
async function dispatch(context: DispatchContext): Promise<void> {
  const { request, response, options, canonical, workflowId, requestId, tenantId, idempotency, wantsAsyncAnswer, config, seconds, delivery } = context;
  if (options.stream) {
    const streaming = options.runner.streaming;
    if (!streaming) {
      throw new HttpError(400, 'invalid_request_error', 'streaming is not available on this gateway process', { param: 'stream' });
    }
    if (wantsAsyncAnswer) {
      throw new HttpError(400, 'invalid_request_error', 'stream: true cannot be combined with an asynchronous request', {
        param: 'stream',
      });
    }
    const result = await streamRequest(request, response, {
      runner: options.runner,
      streaming,
      canonical,
      workflowId,
      idempotency,
      delivery,
      renderer: options.stream({ requestId }),
      onFirstPiece: (model) => metrics.timeToFirstToken.observe({ model }, seconds()),
    });
    logRequest({ route: options.route, tenantId, workflowId, config, request: canonical, ...(result ? { result } : {}), status: 200, seconds: seconds() });
    return;
  }
  // A 503 here means Temporal did not take the request; past this line it did, and no answer may invite a second one.
  const handle = await startRequest(options.runner, canonical, workflowId, idempotency, delivery);
  if (wantsAsyncAnswer) {
    // Temporal took it: a status that cannot be read back just now still answers 202 with the id.
    const body = await requestStatusBody(handle).catch(() => acceptedStatusBody(workflowId));
    response.status(202).set({ location: `/v1/requests/${workflowId}`, 'x-gateway-workflow-id': workflowId }).json(body);
    return;
  }
  const result = await awaitResponse(handle);
  logRequest({ route: options.route, tenantId, workflowId, config, request: canonical, result, status: 200, seconds: seconds() });
  const route = routeHeader(result);
  response
    .set({
      'x-gateway-model': result.model,
      'x-gateway-provider': result.provider,
      'x-gateway-fallbacks': String(result.fallbacks),
      'x-gateway-outcome': result.outcome,
      'x-gateway-workflow-id': result.workflowId,
      'x-request-id': result.requestId,
      ...(result.costUsd === undefined ? {} : { 'x-gateway-cost-usd': formatUsd(result.costUsd) }),
      ...(result.cache === undefined ? {} : { 'x-gateway-cache': result.cache }),
      ...(route === undefined ? {} : { 'x-gateway-route': route }),
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

/**
 * Serves a streamed request. The listener is registered before the workflow
 * starts, so no piece can be missed; the workflow runs the model on this
 * process's streaming queue and every piece is written as it arrives. The
 * response status is sent with the first piece, and the stream ends as soon
 * as the answer is complete (the streaming activity hands over the response
 * the workflow will return). A request that fails before
 * any piece (a 400 from every model, a cancel) gets an ordinary error
 * response; one that fails after gets an explicit error event.
 */
async function streamRequest(
  request: Request,
  response: Response,
  options: {
    runner: RequestRunnerOptions;
    streaming: StreamingOptions;
    canonical: CanonicalRequest;
    workflowId: string;
    idempotency: IdempotencyCheck | undefined;
    delivery: Omit<DeliveryOptions, 'streamTaskQueue'>;
    renderer: StreamRenderer;
    /** Called once, when the first piece of the answer goes out. */
    onFirstPiece: (model: string) => void;
  },
): Promise<CanonicalResponse | undefined> {
  const { renderer, workflowId } = options;
  let streamed = false;
  const write = (text: string): void => {
    if (text === '' || response.writableEnded || response.destroyed) return;
    if (!response.headersSent) {
      response.status(200).set({
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache',
        'x-accel-buffering': 'no',
        'x-gateway-workflow-id': workflowId,
        'x-request-id': options.canonical.requestId,
      });
      response.flushHeaders();
      // Small SSE writes must not wait for Nagle's algorithm to batch them.
      response.socket?.setNoDelay(true);
    }
    response.write(text);
  };
  // The stream ends once the answer is complete (the workflow's bookkeeping after it is not the caller's wait), or with the workflow's result.
  const end = (result: CanonicalResponse): void => {
    if (response.writableEnded || response.destroyed) return;
    // An answer from the cache arrives whole, before any header went out: say where it came from.
    if (!response.headersSent && result.cache !== undefined) response.setHeader('x-gateway-cache', result.cache);
    write(renderer.finish(result, streamed));
    response.end();
  };
  const { handle, detach } = await startStreamedRequest(options.runner, options.streaming, options.canonical, workflowId, options.idempotency, {
    onDelta(delta, target) {
      if (!streamed) options.onFirstPiece(target.model);
      streamed = true;
      write(renderer.delta(delta, target));
    },
    onAnswer: end,
  }, options.delivery);
  try {
    // A caller that leaves mid-stream stops the spending, unless it sent an
    // Idempotency-Key: then it means to retry, and the retry gets the whole answer.
    const onClose = (): void => {
      detach();
      if (!response.writableFinished && options.idempotency === undefined) {
        handle.cancel().catch(() => undefined);
      }
    };
    if (response.closed) onClose();
    else response.once('close', onClose);
    let result: CanonicalResponse;
    try {
      result = await awaitResponse(handle);
    } catch (error) {
      if (!response.headersSent) throw error;
      const httpError =
        error instanceof HttpError ? error : new HttpError(500, 'server_error', 'the gateway lost track of the request; read it with GET /v1/requests/:id');
      write(renderer.error(httpError));
      response.end();
      return undefined;
    }
    end(result);
    return result;
  } finally {
    detach();
  }
}
