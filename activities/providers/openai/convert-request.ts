import type {
  ChatCompletionContentPart,
  ChatCompletionCreateParamsNonStreaming,
  ChatCompletionMessageParam,
  ChatCompletionTool,
  ChatCompletionToolChoiceOption,
} from 'openai/resources/chat/completions';
import type { ResponseFormatJSONObject, ResponseFormatJSONSchema } from 'openai/resources/shared';
import type { CanonicalRequest, ContentPart, Message, OutputFormat, ToolChoice } from '../../../common/request-schema';

/** Where servers that speak Chat Completions differ from each other. */
export interface OpenAiDialect {
  /**
   * OpenAI deprecated `max_tokens` (reasoning models reject it) for
   * `max_completion_tokens`; vLLM, Ollama and llama.cpp read `max_tokens`.
   */
  tokenLimitField: 'max_completion_tokens' | 'max_tokens';
}

/** OpenAI's own API. */
export const OPENAI_DIALECT: OpenAiDialect = { tokenLimitField: 'max_completion_tokens' };

export interface ConvertedOpenAiRequest {
  params: ChatCompletionCreateParamsNonStreaming;
  /** Settings that could not be sent as asked. */
  warnings: string[];
}

/** CanonicalRequest → Chat Completions parameters. Pure. */
export function convertRequest(
  request: CanonicalRequest,
  upstreamModel: string,
  dialect: OpenAiDialect = OPENAI_DIALECT,
): ConvertedOpenAiRequest {
  const warnings: string[] = [];
  const { sampling } = request;
  const params: ChatCompletionCreateParamsNonStreaming = {
    model: upstreamModel,
    messages: request.messages.map(convertMessage),
  };

  const hasTools = request.tools !== undefined && request.tools.length > 0;
  if (hasTools) params.tools = request.tools?.map(convertTool);
  if (request.toolChoice !== undefined) {
    // OpenAI rejects tool_choice without tools; dropping it changes nothing the model could do.
    if (hasTools) params.tool_choice = convertToolChoice(request.toolChoice);
    else warnings.push('toolChoice was ignored: the request has no tools');
  }

  const responseFormat = convertOutputFormat(request.output);
  if (responseFormat) params.response_format = responseFormat;

  if (sampling.temperature !== undefined) params.temperature = sampling.temperature;
  if (sampling.topP !== undefined) params.top_p = sampling.topP;
  if (sampling.maxTokens !== undefined) params[dialect.tokenLimitField] = sampling.maxTokens;
  if (sampling.stop !== undefined && sampling.stop.length > 0) params.stop = sampling.stop;
  if (sampling.seed !== undefined) params.seed = sampling.seed;
  if (request.user !== undefined) params.user = request.user;

  return { params, warnings };
}

function convertMessage(message: Message): ChatCompletionMessageParam {
  switch (message.role) {
    case 'system':
      return { role: 'system', content: message.content };
    case 'user':
      return {
        role: 'user',
        content: typeof message.content === 'string' ? message.content : message.content.map(convertContentPart),
      };
    case 'assistant': {
      const toolCalls = message.toolCalls ?? [];
      if (toolCalls.length === 0) return { role: 'assistant', content: message.content ?? '' };
      return {
        role: 'assistant',
        content: message.content,
        tool_calls: toolCalls.map((call) => ({
          id: call.id,
          type: 'function' as const,
          function: { name: call.name, arguments: call.arguments },
        })),
      };
    }
    case 'tool':
      return { role: 'tool', tool_call_id: message.toolCallId, content: message.content };
  }
}

function convertContentPart(part: ContentPart): ChatCompletionContentPart {
  return part.type === 'text'
    ? { type: 'text', text: part.text }
    : { type: 'image_url', image_url: { url: part.url } };
}

function convertTool(tool: NonNullable<CanonicalRequest['tools']>[number]): ChatCompletionTool {
  return {
    type: 'function',
    function: {
      name: tool.name,
      parameters: tool.parameters,
      ...(tool.description === undefined ? {} : { description: tool.description }),
    },
  };
}

function convertToolChoice(choice: ToolChoice): ChatCompletionToolChoiceOption {
  return typeof choice === 'string' ? choice : { type: 'function', function: { name: choice.name } };
}

function convertOutputFormat(
  output: OutputFormat | undefined,
): ResponseFormatJSONObject | ResponseFormatJSONSchema | undefined {
  switch (output?.type) {
    case undefined:
    case 'text':
      return undefined;
    case 'json_object':
      return { type: 'json_object' };
    case 'json_schema':
      return {
        type: 'json_schema',
        json_schema: {
          name: output.name,
          schema: output.schema,
          ...(output.strict === undefined ? {} : { strict: output.strict }),
        },
      };
  }
}
