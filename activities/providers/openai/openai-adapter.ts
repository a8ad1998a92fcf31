import OpenAI from 'openai';
import { startCallDeadline, startStreamDeadline, streamTimeoutMs } from '../call-deadline';
import { failureContextFor } from '../classify-http-failure';
import type { AdapterSettings, ModelAdapter } from '../model-adapter';
import { classifyOpenAiError } from './classify-error';
import { OPENAI_DIALECT, convertRequest, type OpenAiDialect } from './convert-request';
import { convertResponse } from './convert-response';
import { convertStream } from './convert-stream';

/**
 * Sent when the config names no key, so the SDK never falls back to reading
 * OPENAI_API_KEY from the environment; a server that wants a key answers 401.
 */
export const MISSING_API_KEY_PLACEHOLDER = 'not-needed';

/** A ModelAdapter for the Chat Completions API; `dialect` covers compatible servers. */
export function createOpenAiAdapter(settings: AdapterSettings, dialect: OpenAiDialect = OPENAI_DIALECT): ModelAdapter {
  const client = new OpenAI({
    apiKey: settings.apiKey ?? MISSING_API_KEY_PLACEHOLDER,
    baseURL: settings.baseUrl,
    // null, not undefined: keeps the SDK from reading OPENAI_ORG_ID / OPENAI_PROJECT_ID.
    organization: null,
    project: null,
    // Temporal is the only retry layer.
    maxRetries: 0,
    timeout: settings.requestTimeoutMs,
  });

  return {
    async complete(request, options) {
      const { params, warnings } = convertRequest(request, options.upstreamModel, dialect);
      const deadline = startCallDeadline(settings.requestTimeoutMs, options.signal);
      try {
        const body: unknown = await client.chat.completions.create(params, { signal: deadline.signal });
        return convertResponse(body, warnings);
      } catch (error) {
        throw classifyOpenAiError(error, failureContextFor(settings, deadline));
      }
    },

    async stream(request, options) {
      const { params, warnings } = convertRequest(request, options.upstreamModel, dialect);
      // The SDK's timeout covers only the wait for headers; this one covers every gap and the whole stream.
      const deadline = startStreamDeadline(settings.requestTimeoutMs, streamTimeoutMs(settings), options.signal);
      try {
        const chunks = await client.chat.completions.create(
          { ...params, stream: true, stream_options: { include_usage: true } },
          { signal: deadline.signal },
        );
        return await convertStream(deadline.track(chunks), options.onDelta, deadline.signal, warnings);
      } catch (error) {
        throw classifyOpenAiError(error, failureContextFor(settings, deadline));
      } finally {
        deadline.dispose();
      }
    },
  };
}
