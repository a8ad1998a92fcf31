import { countTokens } from 'gpt-tokenizer/encoding/o200k_base';
import type { CanonicalRequest } from '../../common/request-schema';

/** Tokens a chat format spends per message on roles and separators. */
const PER_MESSAGE_TOKENS = 4;
/** An image's cost at OpenAI's high detail for a typical 1024×1024 picture; other vendors are close. */
const PER_IMAGE_TOKENS = 765;

/**
 * Estimated prompt tokens of a request with OpenAI's o200k tokenizer: every
 * message's text, tool calls and results, and the tool definitions. Other
 * vendors' tokenizers differ by some percent, which is why windows are
 * checked against this estimate, not promised by it.
 */
export function countPromptTokens(request: Pick<CanonicalRequest, 'messages' | 'tools'>): number {
  let tokens = 0;
  for (const message of request.messages) {
    tokens += PER_MESSAGE_TOKENS;
    if (message.role === 'assistant') {
      tokens += message.content === null ? 0 : countTokens(message.content);
      for (const call of message.toolCalls ?? []) tokens += countTokens(`${call.name}(${call.arguments})`);
    } else if (typeof message.content === 'string') {
      tokens += countTokens(message.content);
    } else {
      for (const part of message.content) tokens += part.type === 'text' ? countTokens(part.text) : PER_IMAGE_TOKENS;
    }
  }
  for (const tool of request.tools ?? []) {
    tokens += countTokens(JSON.stringify({ name: tool.name, description: tool.description, parameters: tool.parameters }));
  }
  return tokens;
}
