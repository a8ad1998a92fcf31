import type {
  ContentBlockParam,
  ImageBlockParam,
  MessageParam,
  TextBlockParam,
  ToolResultBlockParam,
  ToolUseBlockParam,
} from '@anthropic-ai/sdk/resources/messages';
import type { ContentPart, Message } from '../../../common/request-schema';

export interface ConvertedMessages {
  /** Every system message, in order, for the Messages API's `system` field. */
  systemParts: string[];
  /** Alternating user/assistant turns. */
  messages: MessageParam[];
}

type TurnRole = 'user' | 'assistant';
type TurnBlock = TextBlockParam | ImageBlockParam | ToolUseBlockParam | ToolResultBlockParam;

/**
 * Canonical messages → Messages API turns. System messages move to `system`;
 * tool results become `tool_result` blocks in a user turn; assistant tool
 * calls become `tool_use` blocks; consecutive turns of one role are merged,
 * so all results of one assistant turn travel in the single next user turn.
 */
export function convertMessages(source: readonly Message[], warnings: string[]): ConvertedMessages {
  const systemParts: string[] = [];
  const turns: { role: TurnRole; blocks: TurnBlock[] }[] = [];
  const append = (role: TurnRole, blocks: TurnBlock[]): void => {
    if (blocks.length === 0) return;
    const last = turns[turns.length - 1];
    if (last && last.role === role) last.blocks.push(...blocks);
    else turns.push({ role, blocks });
  };

  source.forEach((message, index) => {
    switch (message.role) {
      case 'system':
        if (turns.length > 0) warnings.push(`messages[${index}] (system) was moved into the system prompt`);
        systemParts.push(message.content);
        return;
      case 'user':
        append('user', convertUserContent(message.content, index, warnings));
        return;
      case 'assistant':
        append('assistant', [
          ...(message.content ? [textBlock(message.content)] : []),
          ...(message.toolCalls ?? []).map((call) => toolUseBlock(call, warnings)),
        ]);
        return;
      case 'tool':
        append('user', [{ type: 'tool_result', tool_use_id: message.toolCallId, content: message.content }]);
        return;
    }
  });

  return { systemParts, messages: turns.map(({ role, blocks }) => ({ role, content: simplify(blocks) })) };
}

function convertUserContent(content: string | ContentPart[], index: number, warnings: string[]): TurnBlock[] {
  if (typeof content === 'string') return [textBlock(content)];
  const blocks: TurnBlock[] = [];
  for (const part of content) {
    if (part.type === 'text') {
      blocks.push(textBlock(part.text));
      continue;
    }
    const image = imageBlock(part.url);
    if (image) blocks.push(image);
    else warnings.push(`an image in messages[${index}] was dropped: Anthropic takes http(s) URLs or base64 jpeg/png/gif/webp`);
  }
  return blocks;
}

function textBlock(text: string): TextBlockParam {
  return { type: 'text', text };
}

const DATA_URL = /^data:(image\/(?:jpeg|png|gif|webp));base64,(.+)$/s;

function imageBlock(url: string): ImageBlockParam | undefined {
  const dataUrl = DATA_URL.exec(url);
  if (dataUrl) {
    const mediaType = dataUrl[1] as 'image/jpeg' | 'image/png' | 'image/gif' | 'image/webp';
    return { type: 'image', source: { type: 'base64', media_type: mediaType, data: dataUrl[2] ?? '' } };
  }
  return /^https?:\/\//i.test(url) ? { type: 'image', source: { type: 'url', url } } : undefined;
}

/** Anthropic wants the arguments as an object; the canonical form is the model's JSON text. */
function toolUseBlock(call: { id: string; name: string; arguments: string }, warnings: string[]): ToolUseBlockParam {
  let input: unknown = {};
  try {
    input = call.arguments.trim() === '' ? {} : JSON.parse(call.arguments);
  } catch {
    warnings.push(`tool call ${call.id} had arguments that are not JSON; sent {}`);
  }
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    warnings.push(`tool call ${call.id} had arguments that are not a JSON object; sent {}`);
    input = {};
  }
  return { type: 'tool_use', id: call.id, name: call.name, input };
}

/** A lone text block is sent as a plain string, the API's simplest form. */
function simplify(blocks: TurnBlock[]): string | ContentBlockParam[] {
  const [first] = blocks;
  return blocks.length === 1 && first?.type === 'text' ? first.text : blocks;
}
