import { jsonSchemaSample } from './json-schema-sample';

/** Prompts longer than this many characters get the vendor's context-length error. */
export const MAX_PROMPT_CHARS = 200_000;

/** A user message containing this text gets a refusal. */
export const REFUSAL_TRIGGER = 'REFUSE_ME';

/** The echo of the user's message stops after this many words. */
const MAX_ECHO_WORDS = 24;

/** Echoes of user messages and tool results stop after this many characters. */
const MAX_ECHO_CHARS = 200;

/** A tool the request offers, in the dialect-neutral form the reply needs. */
export interface MockTool {
  name: string;
  /** JSON Schema of the arguments. */
  parameters: unknown;
}

/** What the reply depends on, extracted from either dialect's request. */
export interface MockRequest {
  model: string;
  /** Text of the last user message; '' when there is none. */
  lastUserText: string;
  /** What the conversation ends with: a user turn, a tool result, or something else. */
  lastTurn: 'user' | 'tool_result' | 'other';
  /** Content of the tool result when `lastTurn` is `tool_result`. */
  toolResultText: string;
  /** Tools the model may call now: empty when none were offered or the choice is "none". */
  tools: MockTool[];
  /** The tool the request forces, if any. */
  forcedToolName: string | undefined;
  output: { type: 'text' } | { type: 'json_object' } | { type: 'json_schema'; schema: unknown };
  maxTokens: number | undefined;
  /** Characters of all prompt text (system and messages). */
  promptChars: number;
}

/** Token counts of a reply: prompts count `ceil(chars / 4)`, text replies one token per word. */
export interface MockUsage {
  promptTokens: number;
  completionTokens: number;
}

/** The reply the mock gives, before it is dressed in a dialect's wire format. */
export type MockReply = (
  | { kind: 'text'; text: string; finish: 'stop' | 'length' }
  | { kind: 'tool_call'; toolName: string; argumentsJson: string }
  | { kind: 'refusal'; text: string }
) & { usage: MockUsage };

/** Prompt tokens as vendors roughly count them: a token is about four characters. */
export function estimateTokens(chars: number): number {
  return Math.ceil(chars / 4);
}

/** Splits text into words with their trailing whitespace: the stream's chunks and the unit of `max_tokens`. */
export function wordChunks(text: string): string[] {
  return text.match(/\s*\S+\s*/gy) ?? (text === '' ? [] : [text]);
}

/** Whether the prompt is over the mock's context window. */
export function isContextTooLong(request: MockRequest): boolean {
  return request.promptChars > MAX_PROMPT_CHARS;
}

/**
 * The reply to a request. It depends only on the request, so a test can
 * predict it and a replay sees the same text:
 * - a user turn containing `REFUSE_ME` is refused;
 * - a conversation ending with a tool result gets text quoting that result;
 * - a user turn with tools available gets a call to the forced or first tool,
 *   with arguments sampled from its schema;
 * - JSON output modes get JSON (`{"answer": ...}` or a schema sample);
 * - otherwise `"[<model>] <first words of the last user message>"`.
 * `maxTokens` cuts text replies to that many words (finish `length`); JSON and
 * tool calls are never cut.
 */
export function deterministicReply(request: MockRequest): MockReply {
  const promptTokens = estimateTokens(request.promptChars);
  const prefix = `[${request.model}] `;

  if (request.lastTurn === 'user' && request.lastUserText.includes(REFUSAL_TRIGGER)) {
    const text = `${prefix}I can't help with that request.`;
    return { kind: 'refusal', text, usage: { promptTokens, completionTokens: wordChunks(text).length } };
  }
  if (request.lastTurn === 'tool_result') {
    const result = request.toolResultText.replace(/\s+/g, ' ').trim().slice(0, MAX_ECHO_CHARS);
    return textReply(`${prefix}The tool returned: ${result}`, request.maxTokens, promptTokens);
  }
  const tool = chooseTool(request);
  if (request.lastTurn === 'user' && tool !== undefined) {
    const argumentsJson = JSON.stringify(jsonSchemaSample(tool.parameters));
    const completionTokens = estimateTokens(tool.name.length + argumentsJson.length);
    return { kind: 'tool_call', toolName: tool.name, argumentsJson, usage: { promptTokens, completionTokens } };
  }

  const text = prefix + echo(request.lastUserText);
  if (request.output.type !== 'text') {
    const value = request.output.type === 'json_object' ? { answer: text } : jsonSchemaSample(request.output.schema);
    const json = JSON.stringify(value);
    return {
      kind: 'text',
      text: json,
      finish: 'stop',
      usage: { promptTokens, completionTokens: estimateTokens(json.length) },
    };
  }
  return textReply(text, request.maxTokens, promptTokens);
}

function chooseTool(request: MockRequest): MockTool | undefined {
  if (request.forcedToolName !== undefined) {
    return request.tools.find((tool) => tool.name === request.forcedToolName) ?? request.tools[0];
  }
  return request.tools[0];
}

function echo(userText: string): string {
  const words = userText.split(/\s+/).filter((word) => word !== '');
  if (words.length === 0) return 'Hello from the mock provider.';
  const kept = words.slice(0, MAX_ECHO_WORDS).join(' ');
  const cut = kept.slice(0, MAX_ECHO_CHARS);
  return words.length > MAX_ECHO_WORDS || cut.length < kept.length ? `${cut} ...` : cut;
}

function textReply(text: string, maxTokens: number | undefined, promptTokens: number): MockReply {
  const chunks = wordChunks(text);
  if (maxTokens === undefined || chunks.length <= maxTokens) {
    return { kind: 'text', text, finish: 'stop', usage: { promptTokens, completionTokens: chunks.length } };
  }
  const cut = chunks.slice(0, maxTokens).join('').trimEnd();
  return { kind: 'text', text: cut, finish: 'length', usage: { promptTokens, completionTokens: maxTokens } };
}

/** `reply` replaced by `text` (a `reply` fault): same prompt tokens, one token per word of the new text. */
export function withReplyText(reply: MockReply, text: string | undefined): MockReply {
  if (text === undefined) return reply;
  return { kind: 'text', text, finish: 'stop', usage: { promptTokens: reply.usage.promptTokens, completionTokens: wordChunks(text).length } };
}
