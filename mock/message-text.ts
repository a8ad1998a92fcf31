/**
 * The plain text inside a message's `content`, whatever the dialect: a
 * string, or an array of blocks whose `text` (OpenAI parts, Anthropic text
 * blocks) or nested `content` (Anthropic tool results) is collected.
 * Images and other non-text blocks count as nothing.
 */
export function messageText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  const pieces: string[] = [];
  for (const block of content) {
    if (typeof block !== 'object' || block === null) continue;
    if ('text' in block && typeof block.text === 'string') pieces.push(block.text);
    else if ('content' in block) pieces.push(messageText(block.content));
  }
  return pieces.join('\n');
}
