import Anthropic from '@anthropic-ai/sdk';
import { startCallDeadline, startStreamDeadline, streamTimeoutMs } from '../call-deadline';
import { failureContextFor } from '../classify-http-failure';
import type { AdapterSettings, ModelAdapter } from '../model-adapter';
import { classifyAnthropicError } from './classify-error';
import { convertRequest } from './convert-request';
import { convertResponse } from './convert-response';
import { convertStream } from './convert-stream';

/**
 * Sent when the config names no key, so the SDK never falls back to the
 * environment or a credentials file; Anthropic then answers 401.
 */
const MISSING_API_KEY_PLACEHOLDER = 'not-needed';

/**
 * A ModelAdapter for the Anthropic Messages API. `settings.baseUrl` is the
 * API root without `/v1` (e.g. `https://api.anthropic.com`).
 */
export function createAnthropicAdapter(settings: AdapterSettings): ModelAdapter {
  const client = new Anthropic({
    apiKey: settings.apiKey ?? MISSING_API_KEY_PLACEHOLDER,
    baseURL: settings.baseUrl,
    // Temporal is the only retry layer.
    maxRetries: 0,
    timeout: settings.requestTimeoutMs,
  });

  return {
    async complete(request, options) {
      const { params, warnings } = convertRequest(request, options.upstreamModel);
      const expectJson = request.output !== undefined && request.output.type !== 'text';
      const deadline = startCallDeadline(settings.requestTimeoutMs, options.signal);
      try {
        const body: unknown = await client.messages.create(params, { signal: deadline.signal });
        return convertResponse(body, warnings, { expectJson });
      } catch (error) {
        throw classifyAnthropicError(error, failureContextFor(settings, deadline));
      }
    },

    async stream(request, options) {
      const { params, warnings } = convertRequest(request, options.upstreamModel);
      const expectJson = request.output !== undefined && request.output.type !== 'text';
      // The SDK's timeout covers only the wait for headers; this one covers every gap and the whole stream.
      const deadline = startStreamDeadline(settings.requestTimeoutMs, streamTimeoutMs(settings), options.signal);
      try {
        const events = await client.messages.create({ ...params, stream: true }, { signal: deadline.signal });
        return await convertStream(deadline.track(events), options.onDelta, deadline.signal, warnings, { expectJson });
      } catch (error) {
        throw classifyAnthropicError(error, failureContextFor(settings, deadline));
      } finally {
        deadline.dispose();
      }
    },
  };
}
