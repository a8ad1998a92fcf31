import { Router, type RequestHandler } from 'express';
import type { Payload, PayloadCodec } from '@temporalio/common';
import { z } from 'zod';
import type { ConfigStore } from '../../worker/config-store';
import { parseBody } from '../parse-body';
import { requireAdmin } from './admin';

const JsonPayloadsSchema = z.object({
  payloads: z
    .array(
      z.object({
        metadata: z.record(z.string(), z.string()).optional(),
        data: z.string().optional(),
      }),
    )
    .max(10_000),
});

/** The Temporal Web UI's usual origins on the dev server, allowed to call the codec endpoint. */
const DEFAULT_UI_ORIGINS = ['http://localhost:8233', 'http://127.0.0.1:8233'];

/**
 * The codec server the Temporal UI and CLI use to show encrypted history:
 * `POST /codec/decode` and `POST /codec/encode` with Temporal's JSON payload
 * format. Admin key required (the UI's "pass access token", or the CLI's
 * `--codec-auth "Bearer <admin key>"`); CORS allows the UI's origin.
 */
export function codecRouter(options: { codec: PayloadCodec; store: ConfigStore; uiOrigins?: readonly string[] }): Router {
  const router = Router();
  const origins = options.uiOrigins ?? DEFAULT_UI_ORIGINS;
  router.use('/codec', cors(origins));
  router.options('/codec/{*path}', (_request, response) => {
    response.status(204).end();
  });
  for (const direction of ['encode', 'decode'] as const) {
    router.post(`/codec/${direction}`, requireAdmin(options.store), async (request, response) => {
      const { payloads } = parseBody(JsonPayloadsSchema, request.body);
      const converted = await options.codec[direction](payloads.map(fromJson));
      response.json({ payloads: converted.map(toJson) });
    });
  }
  return router;
}

function cors(origins: readonly string[]): RequestHandler {
  return (request, response, next) => {
    const origin = request.header('origin');
    if (origin && origins.includes(origin)) {
      response.set({
        'access-control-allow-origin': origin,
        'access-control-allow-methods': 'POST, OPTIONS',
        'access-control-allow-headers': 'content-type, x-namespace, authorization',
        'access-control-allow-credentials': 'true',
        vary: 'origin',
      });
    }
    next();
  };
}

function fromJson(payload: { metadata?: Record<string, string>; data?: string }): Payload {
  return {
    metadata: Object.fromEntries(Object.entries(payload.metadata ?? {}).map(([key, value]) => [key, new Uint8Array(Buffer.from(value, 'base64'))])),
    data: new Uint8Array(Buffer.from(payload.data ?? '', 'base64')),
  };
}

function toJson(payload: Payload): { metadata: Record<string, string>; data: string } {
  return {
    metadata: Object.fromEntries(Object.entries(payload.metadata ?? {}).map(([key, value]) => [key, Buffer.from(value ?? new Uint8Array()).toString('base64')])),
    data: Buffer.from(payload.data ?? new Uint8Array()).toString('base64'),
  };
}
