import { randomUUID } from 'node:crypto';
import type { ErrorRequestHandler, Request } from 'express';

/** OpenAI error `type` values the gateway uses. */
export type ErrorType =
  | 'invalid_request_error'
  | 'authentication_error'
  | 'permission_error'
  | 'not_found_error'
  | 'rate_limit_error'
  | 'budget_exceeded'
  | 'request_too_large'
  | 'server_error'
  | 'service_unavailable';

/** The one error class the API throws; the middleware below turns it into a response. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly type: ErrorType,
    message: string,
    readonly options: {
      param?: string | null;
      code?: string | null;
      /** Sent as `Retry-After`: when a retry may succeed (the official clients wait this long). */
      retryAfterSeconds?: number;
    } = {},
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

/** Errors express's own parsers raise, mapped to HTTP. */
function fromParserError(error: unknown): HttpError | undefined {
  const candidate = error as { type?: string; status?: number; limit?: number };
  if (candidate?.type === 'entity.too.large') {
    return new HttpError(413, 'request_too_large', `request body exceeds the limit of ${candidate.limit} bytes`, {
      code: 'request_too_large',
    });
  }
  if (candidate?.type === 'entity.parse.failed') {
    return new HttpError(400, 'invalid_request_error', 'request body is not valid JSON', { code: 'invalid_json' });
  }
  if (candidate?.type === 'encoding.unsupported' || candidate?.type === 'charset.unsupported') {
    return new HttpError(415, 'invalid_request_error', 'unsupported request body encoding');
  }
  return undefined;
}

/** The same failures named as Anthropic's error types, for `/v1/messages`. */
const ANTHROPIC_ERROR_TYPES: Record<ErrorType, string> = {
  invalid_request_error: 'invalid_request_error',
  authentication_error: 'authentication_error',
  permission_error: 'permission_error',
  not_found_error: 'not_found_error',
  rate_limit_error: 'rate_limit_error',
  budget_exceeded: 'rate_limit_error',
  request_too_large: 'request_too_large',
  server_error: 'api_error',
  service_unavailable: 'overloaded_error',
};

/**
 * OpenAI-style error body (Anthropic-style on `/v1/messages`) for every
 * failure; never a stack trace or a secret. An unexpected error answers a
 * generic message with an error id; its detail goes to the log under that id.
 */
export function errorMiddleware(
  log: (line: Record<string, unknown>) => void,
  /** Maps errors the routes left as they were to an answer (the app's own knowledge of what they mean). */
  classify: (error: unknown, request: Request) => HttpError | undefined = () => undefined,
): ErrorRequestHandler {
  return (error, request, response, _next) => {
    let httpError = error instanceof HttpError ? error : (fromParserError(error) ?? classify(error, request));
    if (httpError === undefined) {
      const errorId = `err_${randomUUID().replaceAll('-', '')}`;
      log({ level: 'error', msg: 'unexpected error', errorId, method: request.method, path: request.path, error: detailOf(error) });
      httpError = new HttpError(500, 'server_error', `internal error in the gateway (error id ${errorId})`, { code: 'internal_error' });
      if (!response.headersSent) response.setHeader('x-gateway-error-id', errorId);
    } else if (httpError.status >= 500) {
      // The caller reads the message; the log also gets what caused it (a 503's gRPC error, say).
      log({ level: 'error', msg: 'request failed', path: request.path, error: httpError.cause === undefined ? httpError.message : detailOf(httpError) });
    }
    if (response.headersSent) {
      response.end();
      return;
    }
    const body = request.path.startsWith('/v1/messages') ? anthropicErrorBody(httpError) : openAiErrorBody(httpError);
    if (httpError.options.retryAfterSeconds !== undefined) response.setHeader('retry-after', String(httpError.options.retryAfterSeconds));
    response.status(httpError.status).json(body);
  };
}

/** An error's message with its causes' (a workflow failure's reason is in its cause), for the log only. */
function detailOf(error: unknown): string {
  const parts: string[] = [];
  for (let current: unknown = error; current !== undefined && parts.length < 5; current = (current as { cause?: unknown }).cause) {
    parts.push(current instanceof Error ? `${current.name}: ${current.message}` : String(current));
    if (!(current instanceof Error)) break;
  }
  return parts.join(' <- ');
}

/** OpenAI's error body; also the data of an error event in an OpenAI stream. */
export function openAiErrorBody(error: HttpError) {
  return {
    error: {
      message: error.message,
      type: error.type,
      param: error.options.param ?? null,
      code: error.options.code ?? null,
    },
  };
}

/** Anthropic's error body; also the data of an `error` event in an Anthropic stream. */
export function anthropicErrorBody(error: HttpError) {
  return { type: 'error' as const, error: { type: ANTHROPIC_ERROR_TYPES[error.type], message: error.message } };
}
