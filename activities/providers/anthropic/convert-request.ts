import type {
  MessageCreateParamsNonStreaming,
  Tool as AnthropicTool,
  ToolChoice as AnthropicToolChoice,
} from '@anthropic-ai/sdk/resources/messages';
import type { CanonicalRequest, OutputFormat, Tool, ToolChoice } from '../../../common/request-schema';
import { convertMessages } from './convert-messages';

/**
 * Anthropic requires `max_tokens`; this is sent when the request sets none.
 * High enough not to cut ordinary answers, low enough to bound cost.
 * @default 4096
 */
export const ANTHROPIC_DEFAULT_MAX_TOKENS = 4096;

export interface ConvertedAnthropicRequest {
  params: MessageCreateParamsNonStreaming;
  /** Settings that could not be sent as asked. */
  warnings: string[];
}

/** CanonicalRequest → Messages API parameters. Pure. */
export function convertRequest(request: CanonicalRequest, upstreamModel: string): ConvertedAnthropicRequest {
  const warnings: string[] = [];
  const { systemParts, messages } = convertMessages(request.messages, warnings);
  const { sampling } = request;

  const outputInstruction = jsonOutputInstruction(request.output);
  if (outputInstruction) {
    systemParts.push(outputInstruction);
    warnings.push(`${request.output?.type} output is requested by a system-prompt instruction: Anthropic does not enforce it`);
  }

  let maxTokens = sampling.maxTokens;
  if (maxTokens === undefined) {
    maxTokens = ANTHROPIC_DEFAULT_MAX_TOKENS;
    warnings.push(`maxTokens was not set; Anthropic requires one, sent ${ANTHROPIC_DEFAULT_MAX_TOKENS}`);
  }

  const params: MessageCreateParamsNonStreaming = { model: upstreamModel, max_tokens: maxTokens, messages };
  if (systemParts.length > 0) params.system = systemParts.join('\n\n');

  const hasTools = request.tools !== undefined && request.tools.length > 0;
  if (hasTools) params.tools = request.tools?.map(convertTool);
  if (request.toolChoice !== undefined) {
    if (hasTools) params.tool_choice = convertToolChoice(request.toolChoice);
    else warnings.push('toolChoice was ignored: the request has no tools');
  }

  if (sampling.stop !== undefined && sampling.stop.length > 0) params.stop_sequences = sampling.stop;
  if (request.user !== undefined) params.metadata = { user_id: request.user };

  // API version 2026-10-21 answers 400 to any sampling parameter, even at its default.
  if (sampling.temperature !== undefined) warnings.push('temperature was not sent: the Anthropic API no longer accepts it');
  if (sampling.topP !== undefined) warnings.push('topP was not sent: the Anthropic API no longer accepts it');
  if (sampling.seed !== undefined) warnings.push('seed was not sent: Anthropic has no seed parameter');

  return { params, warnings };
}

function convertTool(tool: Tool): AnthropicTool {
  return {
    name: tool.name,
    // Anthropic requires an object schema; schemas of tools without parameters often omit `type`.
    input_schema: { ...tool.parameters, type: 'object' },
    ...(tool.description === undefined ? {} : { description: tool.description }),
  };
}

function convertToolChoice(choice: ToolChoice): AnthropicToolChoice {
  if (typeof choice !== 'string') return { type: 'tool', name: choice.name };
  switch (choice) {
    case 'auto':
      return { type: 'auto' };
    case 'none':
      return { type: 'none' };
    case 'required':
      return { type: 'any' };
  }
}

/**
 * JSON output by instruction: the Messages API has no `json_object` mode, and
 * its native structured outputs are not available on every model. The
 * activity validates the answer against the schema afterwards.
 */
export function jsonOutputInstruction(output: OutputFormat | undefined): string | undefined {
  switch (output?.type) {
    case undefined:
    case 'text':
      return undefined;
    case 'json_object':
      return 'Respond with one JSON object and nothing else: no prose, no Markdown code fences.';
    case 'json_schema':
      return [
        `Respond with one JSON value that conforms to the JSON Schema "${output.name}" below, and nothing else:`,
        'no prose, no Markdown code fences.',
        JSON.stringify(output.schema),
      ].join('\n');
  }
}
