import { randomUUID } from 'node:crypto';
import express, { type Express, type Response } from 'express';
import { HttpError, errorMiddleware, openAiErrorBody } from '../dialects/http-error';
import { ChatCompletionRequestSchema } from '../dialects/openai/chat-completion-request-schema';
import { toCanonicalRequest } from '../dialects/openai/convert-chat-completion';
import { parseBody } from '../dialects/parse-body';
import { sseEvent } from '../dialects/stream-renderer';
import { UnsupportedInputError, type GenerationInput, type GenerationResult, type LocalModelEngine } from './engine';
import { ServerBusyError, type SlotQueue } from './slot-queue';

/** Seconds a refused caller is told to wait (`Retry-After`). */
const RETRY_AFTER_SECONDS = 1;

export interface LocalServerCounters {
  served: number;
  refused: number;
  failed: number;
  cancelled: number;
}

/**
 * The OpenAI wire format over one local model: `POST /v1/chat/completions`
 * (streaming included), `GET /v1/models`, `GET /healthz`. Requests are checked
 * before they queue; a full queue is refused with a retryable 429.
 */
export function createLocalModelApp(options: {
  engine: LocalModelEngine;
  queue: SlotQueue;
  log: (line: Record<string, unknown>) => void;
}): { app: Express; counters: LocalServerCounters } {
  const { engine, queue, log } = options;
  const counters: LocalServerCounters = { served: 0, refused: 0, failed: 0, cancelled: 0 };
  const started = Math.floor(Date.now() / 1000);
  const app = express();
  app.disable('x-powered-by');

  app.get('/healthz', (_request, response) => {
    response.json({ status: 'ok', model: engine.id, contextSize: engine.contextSize, ...queue.stats(), ...counters });
  });

  app.get('/v1/models', (_request, response) => {
    response.json({ object: 'list', data: [{ id: engine.id, object: 'model', created: started, owned_by: 'switchyard-local' }] });
  });

  app.post('/v1/chat/completions', express.json({ limit: '4mb' }), async (request, response) => {
    const body = parseBody(ChatCompletionRequestSchema, request.body);
    if (body.model !== engine.id) {
      throw new HttpError(404, 'not_found_error', `The model "${body.model}" is not served here; this server serves "${engine.id}".`, {
        param: 'model',
        code: 'model_not_found',
      });
    }
    if ((body.tools ?? []).length > 0) {
      throw new HttpError(400, 'invalid_request_error', 'This local model does not call tools.', { param: 'tools', code: 'unsupported_parameter' });
    }
    const id = `chatcmpl-local-${randomUUID()}`;
    const canonical = toCanonicalRequest(body, { requestId: id, tenantId: 'local' });
    const input: GenerationInput = {
      messages: canonical.messages,
      ...definedOnly(canonical.sampling),
      ...(canonical.output === undefined ? {} : { output: canonical.output }),
    };
    // Generation stops when the caller goes away (a queued caller just leaves the queue).
    const abort = new AbortController();
    response.on('close', () => {
      if (!response.writableFinished) abort.abort();
    });

    const slot = await queue.acquire(abort.signal).catch((error: unknown) => {
      if (error instanceof ServerBusyError) {
        counters.refused += 1;
        response.setHeader('Retry-After', String(RETRY_AFTER_SECONDS));
        throw new HttpError(429, 'rate_limit_error', `${error.message}.`, { code: 'local_model_busy' });
      }
      throw error;
    });
    const created = Math.floor(Date.now() / 1000);
    const envelope = { id, created, model: engine.id, system_fingerprint: null };
    try {
      if (body.stream === true) {
        await streamAnswer(response, engine, slot.index, input, envelope, body.stream_options?.include_usage === true, abort.signal);
      } else {
        const result = await engine.generate(slot.index, input, { signal: abort.signal });
        response.json({
          ...envelope,
          object: 'chat.completion',
          choices: [{ index: 0, message: { role: 'assistant', content: result.text, refusal: null }, logprobs: null, finish_reason: result.finishReason }],
          usage: usageOf(result),
        });
      }
      counters.served += 1;
    } catch (error) {
      if (abort.signal.aborted) {
        counters.cancelled += 1;
        return;
      }
      const httpError = toHttpError(error);
      if (httpError.status >= 500) {
        counters.failed += 1;
        log({ level: 'error', msg: 'local generation failed', error: error instanceof Error ? error.message : String(error) });
      }
      if (!response.headersSent) throw httpError;
      // Mid-stream: an error event the OpenAI SDKs raise as an APIError, and no [DONE].
      response.end(sseEvent(openAiErrorBody(httpError)));
    } finally {
      slot.release();
    }
  });

  app.use((_request, _response, next) => next(new HttpError(404, 'not_found_error', 'no such route on the local model server')));
  app.use(errorMiddleware(log));
  return { app, counters };
}

interface Envelope {
  id: string;
  created: number;
  model: string;
  system_fingerprint: null;
}

async function streamAnswer(
  response: Response,
  engine: LocalModelEngine,
  slot: number,
  input: GenerationInput,
  envelope: Envelope,
  includeUsage: boolean,
  signal: AbortSignal,
): Promise<void> {
  const chunk = (delta: Record<string, unknown>, finishReason: string | null = null) =>
    sseEvent({ ...envelope, object: 'chat.completion.chunk', choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }] });
  let opened = false;
  const open = () => {
    if (opened) return;
    opened = true;
    response.status(200).setHeader('Content-Type', 'text/event-stream; charset=utf-8');
    response.setHeader('Cache-Control', 'no-cache');
    response.flushHeaders();
    response.write(chunk({ role: 'assistant', content: '' }));
  };
  // Headers wait for the first piece, so a request refused before generating still gets a plain error status.
  const result = await engine.generate(slot, input, {
    signal,
    onText: (text) => {
      open();
      response.write(chunk({ content: text }));
    },
  });
  open();
  let tail = chunk({}, result.finishReason);
  if (includeUsage) tail += sseEvent({ ...envelope, object: 'chat.completion.chunk', choices: [], usage: usageOf(result) });
  response.end(`${tail}data: [DONE]\n\n`);
}

function usageOf(result: GenerationResult) {
  return { prompt_tokens: result.promptTokens, completion_tokens: result.completionTokens, total_tokens: result.promptTokens + result.completionTokens };
}

function toHttpError(error: unknown): HttpError {
  if (error instanceof HttpError) return error;
  if (error instanceof UnsupportedInputError) {
    return new HttpError(400, 'invalid_request_error', error.message, { param: error.param, code: error.code });
  }
  return new HttpError(500, 'server_error', 'the local model failed to generate an answer');
}

function definedOnly(sampling: { temperature?: number; topP?: number; maxTokens?: number; stop?: string[]; seed?: number }): Partial<GenerationInput> {
  return Object.fromEntries(Object.entries(sampling).filter(([, value]) => value !== undefined));
}
