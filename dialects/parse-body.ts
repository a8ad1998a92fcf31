import type { z } from 'zod';
import { HttpError } from './http-error';

/** Validates an untrusted body once, at the edge; the first problem becomes a 400 naming the field. */
export function parseBody<Schema extends z.ZodType>(schema: Schema, body: unknown): z.infer<Schema> {
  if (body === undefined || body === null || typeof body !== 'object') {
    throw new HttpError(400, 'invalid_request_error', 'request body must be a JSON object (Content-Type: application/json)');
  }
  const result = schema.safeParse(body);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const path = issue?.path.join('.') ?? '';
  let message = issue?.message ?? 'invalid request body';
  if (issue?.code === 'unrecognized_keys') {
    message = `unsupported parameter(s): ${issue.keys.join(', ')}`;
  }
  throw new HttpError(400, 'invalid_request_error', path ? `${path}: ${message}` : message, {
    param: path || (issue?.code === 'unrecognized_keys' ? (issue.keys[0] ?? null) : null),
    code: issue?.code === 'unrecognized_keys' ? 'unsupported_parameter' : 'invalid_value',
  });
}
