import { gatewayMetadata } from '../gateway-metadata';
import type { CanonicalRequest, Message, OutputFormat, ToolChoice } from '../../common/request-schema';
import type { CanonicalResponse, FinishReason } from '../../common/response-schema';
import type { ChatCompletionRequest } from './chat-completion-request-schema';

type OpenAiMessage = ChatCompletionRequest['messages'][number];

/** OpenAI chat body → canonical request (validated by the caller first). */
export function toCanonicalRequest(
  body: ChatCompletionRequest,
  context: { requestId: string; tenantId: string },
): CanonicalRequest {
  const stop = body.stop == null ? undefined : Array.isArray(body.stop) ? body.stop : [body.stop];
  return {
    requestId: context.requestId,
    tenantId: context.tenantId,
    model: body.model,
    messages: body.messages.map(toCanonicalMessage),
    tools: body.tools?.map((tool) => ({
      name: tool.function.name,
      description: tool.function.description,
      parameters: tool.function.parameters ?? { type: 'object', properties: {} },
    })),
    toolChoice: toToolChoice(body.tool_choice),
    output: toOutputFormat(body.response_format),
    sampling: {
      temperature: body.temperature ?? undefined,
      topP: body.top_p ?? undefined,
      maxTokens: body.max_completion_tokens ?? body.max_tokens ?? undefined,
      stop,
      seed: body.seed ?? undefined,
    },
    // Routing tags (headers or `metadata`) are read and checked by the route, not here.
    tags: {},
    user: body.user,
  };
}

function joinText(content: string | { text: string }[]): string {
  return typeof content === 'string' ? content : content.map((part) => part.text).join('');
}

function toCanonicalMessage(message: OpenAiMessage): Message {
  switch (message.role) {
    case 'system':
    case 'developer':
      return { role: 'system', content: joinText(message.content) };
    case 'user':
      return {
        role: 'user',
        content:
          typeof message.content === 'string'
            ? message.content
            : message.content.map((part) =>
                part.type === 'text' ? { type: 'text', text: part.text } : { type: 'image_url', url: part.image_url.url },
              ),
      };
    case 'assistant':
      return {
        role: 'assistant',
        content: message.content == null ? null : joinText(message.content),
        toolCalls: message.tool_calls?.map((call) => ({
          id: call.id,
          name: call.function.name,
          arguments: call.function.arguments,
        })),
      };
    case 'tool':
      return { role: 'tool', toolCallId: message.tool_call_id, content: joinText(message.content) };
  }
}

function toToolChoice(choice: ChatCompletionRequest['tool_choice']): ToolChoice | undefined {
  if (choice === undefined) return undefined;
  return typeof choice === 'string' ? choice : { name: choice.function.name };
}

function toOutputFormat(format: ChatCompletionRequest['response_format']): OutputFormat | undefined {
  if (!format) return undefined;
  if (format.type !== 'json_schema') return { type: format.type };
  return {
    type: 'json_schema',
    name: format.json_schema.name,
    schema: format.json_schema.schema ?? { type: 'object' },
    strict: format.json_schema.strict ?? undefined,
  };
}

export const FINISH_REASONS: Record<FinishReason['unified'], string> = {
  stop: 'stop',
  length: 'length',
  tool_calls: 'tool_calls',
  content_filter: 'content_filter',
  other: 'stop',
};

/** Canonical response → OpenAI `chat.completion`, plus a `gateway` block with the route story. */
export function toChatCompletion(response: CanonicalResponse) {
  return {
    id: `chatcmpl-${response.requestId}`,
    object: 'chat.completion' as const,
    created: Math.floor(Date.parse(response.createdAt) / 1000),
    model: response.model,
    system_fingerprint: response.configVersion,
    choices: [
      {
        index: 0,
        message: {
          role: 'assistant' as const,
          content: response.text,
          refusal: response.refusal,
          ...(response.toolCalls.length > 0
            ? {
                tool_calls: response.toolCalls.map((call) => ({
                  id: call.id,
                  type: 'function' as const,
                  function: { name: call.name, arguments: call.arguments },
                })),
              }
            : {}),
        },
        logprobs: null,
        finish_reason: FINISH_REASONS[response.finishReason.unified],
      },
    ],
    usage: toOpenAiUsage(response.usage),
    gateway: gatewayMetadata(response),
  };
}

/** Canonical usage in OpenAI's shape (completions and the last stream chunk). */
export function toOpenAiUsage(usage: CanonicalResponse['usage']) {
  return { prompt_tokens: usage.inputTokens, completion_tokens: usage.outputTokens, total_tokens: usage.inputTokens + usage.outputTokens };
}
