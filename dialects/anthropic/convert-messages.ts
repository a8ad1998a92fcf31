import { gatewayMetadata } from '../gateway-metadata';
import type { CanonicalRequest, Message, ToolChoice } from '../../common/request-schema';
import type { CanonicalResponse, FinishReason } from '../../common/response-schema';
import type { MessagesRequest } from './messages-request-schema';

type AnthropicMessage = MessagesRequest['messages'][number];

/** Anthropic Messages body → canonical request (validated by the caller first). */
export function toCanonicalRequest(body: MessagesRequest, context: { requestId: string; tenantId: string }): CanonicalRequest {
  const system = body.system === undefined ? [] : [{ role: 'system' as const, content: joinText(body.system) }];
  return {
    requestId: context.requestId,
    tenantId: context.tenantId,
    model: body.model,
    messages: [...system, ...body.messages.flatMap(toCanonicalMessages)],
    tools: body.tools?.map((tool) => ({ name: tool.name, description: tool.description, parameters: tool.input_schema })),
    toolChoice: toToolChoice(body.tool_choice),
    sampling: {
      temperature: body.temperature,
      topP: body.top_p,
      maxTokens: body.max_tokens,
      stop: body.stop_sequences,
    },
    tags: {},
    user: body.metadata?.user_id ?? undefined,
  };
}

function joinText(content: string | { text: string }[]): string {
  return typeof content === 'string' ? content : content.map((block) => block.text).join('');
}

/** One Anthropic turn can hold tool results and text: canonical keeps them as separate messages, in order. */
function toCanonicalMessages(message: AnthropicMessage): Message[] {
  if (typeof message.content === 'string') {
    return [message.role === 'user' ? { role: 'user', content: message.content } : { role: 'assistant', content: message.content }];
  }
  if (message.role === 'assistant') {
    const textParts = message.content.filter((block) => block.type === 'text').map((block) => block.text);
    const toolCalls = message.content
      .filter((block) => block.type === 'tool_use')
      .map((block) => ({ id: block.id, name: block.name, arguments: JSON.stringify(block.input ?? {}) }));
    return [{ role: 'assistant', content: textParts.length > 0 ? textParts.join('') : null, ...(toolCalls.length > 0 ? { toolCalls } : {}) }];
  }
  const messages: Message[] = [];
  let parts: Exclude<Extract<Message, { role: 'user' }>['content'], string> = [];
  const flush = () => {
    if (parts.length > 0) messages.push({ role: 'user', content: parts });
    parts = [];
  };
  for (const block of message.content) {
    if (block.type === 'tool_result') {
      flush();
      const content = block.content === undefined ? '' : joinText(block.content);
      messages.push({ role: 'tool', toolCallId: block.tool_use_id, content: block.is_error ? `[error] ${content}` : content });
    } else if (block.type === 'text') {
      parts.push({ type: 'text', text: block.text });
    } else {
      const url = block.source.type === 'url' ? block.source.url : `data:${block.source.media_type};base64,${block.source.data}`;
      parts.push({ type: 'image_url', url });
    }
  }
  flush();
  return messages;
}

function toToolChoice(choice: MessagesRequest['tool_choice']): ToolChoice | undefined {
  switch (choice?.type) {
    case undefined:
      return undefined;
    case 'auto':
      return 'auto';
    case 'any':
      return 'required';
    case 'none':
      return 'none';
    case 'tool':
      return { name: choice.name };
  }
}

export const STOP_REASONS: Record<FinishReason['unified'], string> = {
  stop: 'end_turn',
  length: 'max_tokens',
  tool_calls: 'tool_use',
  content_filter: 'refusal',
  other: 'end_turn',
};

/** Canonical response → Anthropic `message`, plus a `gateway` block with the route story. */
export function toAnthropicMessage(response: CanonicalResponse) {
  const content = [
    ...(response.text ? [{ type: 'text' as const, text: response.text }] : []),
    ...response.toolCalls.map((call) => ({ type: 'tool_use' as const, id: call.id, name: call.name, input: parseArguments(call.arguments) })),
  ];
  return {
    id: `msg_${response.requestId}`,
    type: 'message' as const,
    role: 'assistant' as const,
    model: response.model,
    content: content.length > 0 || response.refusal === null ? content : [{ type: 'text' as const, text: response.refusal }],
    stop_reason: STOP_REASONS[response.finishReason.unified],
    stop_sequence: null,
    usage: { input_tokens: response.usage.inputTokens, output_tokens: response.usage.outputTokens },
    gateway: gatewayMetadata(response),
  };
}

function parseArguments(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return { _raw: text };
  }
}
