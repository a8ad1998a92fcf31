import { Router, type Request, type Response } from 'express';
import { applyFault, type Delivery, type SendVendorError } from './apply-fault';
import { sendAnthropicError } from './anthropic-errors';
import { parseMessagesRequest } from './anthropic-request';
import { messageBody, messageEvents } from './anthropic-response';
import { deliverJson, deliverMalformed, deliverSse } from './deliver-reply';
import { deterministicReply, withReplyText, estimateTokens, isContextTooLong, MAX_PROMPT_CHARS } from './deterministic-reply';
import type { MockState } from './mock-state';
import { anthropicApiKey, bodyRecord, requestedModel } from './request-edge';

/** `POST /v1/messages` in Anthropic's wire format, faults and all. */
export function anthropicRoutes(state: MockState): Router {
  const router = Router();
  router.post('/v1/messages', (request, response) => handleMessages(state, request, response));
  return router;
}

async function handleMessages(state: MockState, request: Request, response: Response): Promise<void> {
  const body = bodyRecord(request);
  const model = requestedModel(body);
  const callNumber = model === undefined ? undefined : state.recordCall(model, body);

  const key = anthropicApiKey(request);
  if (key === undefined) {
    sendAnthropicError(response, 401, { message: 'x-api-key header is required' });
    return;
  }
  if (!state.acceptsKey('anthropic', key)) {
    sendAnthropicError(response, 401, { message: 'invalid x-api-key' });
    return;
  }
  if (model === undefined || callNumber === undefined) {
    sendAnthropicError(response, 400, { message: 'model: Field required' });
    return;
  }

  const delivery: Delivery = { clock: state.clock, answered: () => state.markAnswered(model, callNumber) };
  const sendError: SendVendorError = (target, status, options) => {
    delivery.answered();
    sendAnthropicError(target, status, { ...options, model });
  };
  const shaping = await applyFault(state.takeFault(model, callNumber), response, sendError, () => state.holdStream(), state.clock);
  if (shaping === undefined) return;

  const parse = parseMessagesRequest(body);
  if (!parse.ok) {
    sendAnthropicError(response, 400, { message: parse.message });
    return;
  }
  const { request: mockRequest, stream } = parse.parsed;
  if (isContextTooLong(mockRequest)) {
    const tokens = estimateTokens(mockRequest.promptChars);
    sendAnthropicError(response, 400, {
      message: `prompt is too long: ${tokens} tokens > ${estimateTokens(MAX_PROMPT_CHARS)} maximum`,
    });
    return;
  }

  if (shaping.malformed !== undefined) {
    await deliverMalformed(response, shaping.malformed, { stream, eventName: 'message_start' }, delivery);
    return;
  }
  const reply = withReplyText(deterministicReply(mockRequest), shaping.replyText);
  if (shaping.clientGone) {
    state.recordBilling(model, reply.usage);
    return;
  }
  if (stream) await deliverSse(response, messageEvents(model, reply), shaping, delivery);
  else await deliverJson(response, messageBody(model, reply), shaping, delivery);
  // Billed once the answer went out whole (a cut or held-and-abandoned answer is not), or generated for a client gone meanwhile.
  if (response.writableEnded && !response.destroyed) state.recordBilling(model, reply.usage);
}
