import { Router, type Request, type Response } from 'express';
import { maskKey } from './api-keys';
import { applyFault, type Delivery, type SendVendorError } from './apply-fault';
import { deliverJson, deliverMalformed, deliverSse } from './deliver-reply';
import { deterministicReply, withReplyText, isContextTooLong, MAX_PROMPT_CHARS, estimateTokens } from './deterministic-reply';
import type { MockState } from './mock-state';
import { sendOpenAiError } from './openai-errors';
import { parseChatCompletionRequest } from './openai-request';
import { chatCompletionBody, chatCompletionEvents } from './openai-response';
import { bearerToken, bodyRecord, requestedModel } from './request-edge';

/** `POST /v1/chat/completions` in OpenAI's wire format, faults and all. */
export function openAiRoutes(state: MockState): Router {
  const router = Router();
  router.post('/v1/chat/completions', (request, response) => handleChatCompletion(state, request, response));
  return router;
}

async function handleChatCompletion(state: MockState, request: Request, response: Response): Promise<void> {
  const body = bodyRecord(request);
  const model = requestedModel(body);
  const callNumber = model === undefined ? undefined : state.recordCall(model, body);

  const key = bearerToken(request);
  if (key === undefined) {
    sendOpenAiError(response, 401, {
      message:
        "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth.",
      code: 'missing_api_key',
    });
    return;
  }
  if (!state.acceptsKey('openai', key)) {
    sendOpenAiError(response, 401, {
      message: `Incorrect API key provided: ${maskKey(key)}. You can find your API key at https://platform.openai.com/account/api-keys.`,
      code: 'invalid_api_key',
    });
    return;
  }
  if (model === undefined || callNumber === undefined) {
    sendOpenAiError(response, 400, { message: 'you must provide a model parameter', param: 'model' });
    return;
  }

  const delivery: Delivery = { clock: state.clock, answered: () => state.markAnswered(model, callNumber) };
  const sendError: SendVendorError = (target, status, options) => {
    delivery.answered();
    sendOpenAiError(target, status, { ...options, model });
  };
  const shaping = await applyFault(state.takeFault(model, callNumber), response, sendError, () => state.holdStream(), state.clock);
  if (shaping === undefined) return;

  const parse = parseChatCompletionRequest(body);
  if (!parse.ok) {
    sendOpenAiError(response, 400, { message: parse.message, param: parse.param });
    return;
  }
  const { request: mockRequest, stream, includeUsage } = parse.parsed;
  if (isContextTooLong(mockRequest)) {
    const limit = estimateTokens(MAX_PROMPT_CHARS);
    sendOpenAiError(response, 400, {
      message:
        `This model's maximum context length is ${limit} tokens. However, your messages resulted in ` +
        `${estimateTokens(mockRequest.promptChars)} tokens. Please reduce the length of the messages.`,
      param: 'messages',
      code: 'context_length_exceeded',
    });
    return;
  }

  if (shaping.malformed !== undefined) {
    await deliverMalformed(response, shaping.malformed, { stream }, delivery);
    return;
  }
  const reply = withReplyText(deterministicReply(mockRequest), shaping.replyText);
  if (shaping.clientGone) {
    state.recordBilling(model, reply.usage);
    return;
  }
  if (stream) await deliverSse(response, chatCompletionEvents(model, reply, includeUsage), shaping, delivery);
  else await deliverJson(response, chatCompletionBody(model, reply), shaping, delivery);
  // Billed once the answer went out whole (a cut or held-and-abandoned answer is not), or generated for a client gone meanwhile.
  if (response.writableEnded && !response.destroyed) state.recordBilling(model, reply.usage);
}
