import type { Request } from 'express';
import type { z } from 'zod';

/** A request body as a plain record; anything else (no body, an array) reads as empty. */
export function bodyRecord(request: Request): Record<string, unknown> {
  const body: unknown = request.body;
  return typeof body === 'object' && body !== null && !Array.isArray(body) ? (body as Record<string, unknown>) : {};
}

/** The `model` a request names, if it names one, so even a rejected call is counted against it. */
export function requestedModel(body: Record<string, unknown>): string | undefined {
  return typeof body.model === 'string' && body.model !== '' ? body.model : undefined;
}

/** The key from `Authorization: Bearer <key>`, or undefined when there is none. */
export function bearerToken(request: Request): string | undefined {
  const match = /^Bearer\s+(\S.*)$/i.exec(request.get('authorization') ?? '');
  const token = match?.[1]?.trim();
  return token === '' ? undefined : token;
}

/** Anthropic's key: `x-api-key`, or a bearer token as the SDK's `authToken` sends it. */
export function anthropicApiKey(request: Request): string | undefined {
  const key = request.get('x-api-key')?.trim();
  return key === undefined || key === '' ? bearerToken(request) : key;
}

/** The first problem zod found in a request: where, whether the field was missing, and zod's wording. */
export interface RequestIssue {
  param: string;
  missing: boolean;
  detail: string;
}

/** Picks the first issue; each dialect phrases it the way its vendor would. */
export function firstIssue(error: z.ZodError): RequestIssue {
  const issue = error.issues[0];
  return {
    param: issue === undefined ? '' : issue.path.map(String).join('.'),
    missing: issue?.code === 'invalid_type' && / received undefined$/.test(issue.message),
    detail: issue?.message ?? 'invalid value',
  };
}
