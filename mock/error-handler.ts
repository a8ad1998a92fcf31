import type { NextFunction, Request, Response } from 'express';
import { sendAnthropicError } from './anthropic-errors';
import { sendOpenAiError } from './openai-errors';

/** The status an error asks for (body-parser sets one on bad JSON and oversized bodies), else 500. */
function statusOf(error: unknown): number {
  if (typeof error === 'object' && error !== null && 'status' in error && typeof error.status === 'number') {
    return error.status >= 400 && error.status <= 599 ? error.status : 500;
  }
  return 500;
}

function messageOf(error: unknown, status: number): string {
  if (status < 500 && error instanceof Error) return error.message;
  return 'The mock provider failed while handling the request.';
}

/**
 * Answers any error, and any unknown route, in the error format of the
 * dialect the path belongs to, so an SDK sees a proper API error rather
 * than express's HTML page.
 */
function sendInDialect(request: Request, response: Response, status: number, message: string): void {
  if (request.path.startsWith('/v1/messages')) sendAnthropicError(response, status, { message });
  else if (request.path.startsWith('/_control')) response.status(status).json({ error: { message } });
  else sendOpenAiError(response, status, { message, code: null });
}

/** Express error middleware of the mock: vendor-shaped bodies for every failure. */
export function errorHandler(error: unknown, request: Request, response: Response, next: NextFunction): void {
  // Once a stream has started there is no status left to send; dropping the socket is the honest failure.
  if (response.headersSent) {
    next(error);
    return;
  }
  const status = statusOf(error);
  sendInDialect(request, response, status, messageOf(error, status));
}

/** Catch-all for routes the mock does not serve. */
export function notFoundHandler(request: Request, response: Response): void {
  sendInDialect(request, response, 404, `Invalid URL (${request.method} ${request.path})`);
}
