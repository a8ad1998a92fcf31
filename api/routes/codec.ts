import { Router, type RequestHandler } from 'express';
import { ValueError, type Payload, type PayloadCodec } from '@temporalio/common';
import { z } from 'zod';
import type { ConfigStore } from '../../services/config-store';
import { isEncryptedPayload } from '../../runtime/history-codec';
import { HttpError } from '../../dialects/http-error';
import { jsonBody } from '../json-body';
import { parseBody } from '../../dialects/parse-body';
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

/**
 * The codec server the Temporal UI and CLI use to show encrypted history:
 * `POST /codec/decode` and `POST /codec/encode` with Temporal's JSON payload
 * format. Admin key required (the UI's "pass access token", or the CLI's
 * `--codec-auth "Bearer <admin key>"`), checked before the body is read;
 * CORS allows the config's `codec.corsOrigins`.
 */
export function codecRouter(options: { codec: PayloadCodec; store: ConfigStore; maxBodyBytes: number }): Router {
  const router = Router();
  router.use('/codec', cors(() => options.store.loaded.config.codec.corsOrigins));
  router.options('/codec/{*path}', (_request, response) => {
    response.status(204).end();
  });
  for (const direction of ['encode', 'decode'] as const) {
    router.post(`/codec/${direction}`, requireAdmin(options.store), jsonBody(options.maxBodyBytes), async (request, response) => {
      const { payloads } = parseBody(JsonPayloadsSchema, request.body);
      const converted = await convert(options.codec, direction, payloads.map(fromJson));
      response.json({ payloads: converted.map(toJson) });
    });
  }
  return router;
}

/**
 * Runs the codec. Decoding for display passes payloads from before history
 * was encrypted through as they are (the workers' codec refuses them); a
 * payload that fails to decrypt (wrong key, tampered data or metadata) is the
 * caller's 400, not a server error.
 */
async function convert(codec: PayloadCodec, direction: 'encode' | 'decode', payloads: Payload[]): Promise<Payload[]> {
  if (direction === 'encode') return codec.encode(payloads);
  try {
    return await Promise.all(payloads.map(async (payload) => (isEncryptedPayload(payload) ? ((await codec.decode([payload]))[0] ?? payload) : payload)));
  } catch (error) {
    if (error instanceof ValueError) throw new HttpError(400, 'invalid_request_error', `a payload does not decode: ${error.message}`, { code: 'undecodable_payload' });
    throw error;
  }
}

function cors(origins: () => readonly string[]): RequestHandler {
  return (request, response, next) => {
    const origin = request.header('origin');
    if (origin && origins().includes(origin)) {
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
