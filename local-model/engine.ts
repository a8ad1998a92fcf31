import type {
  ChatHistoryItem,
  ChatWrapper,
  GbnfJsonSchema,
  Llama,
  LlamaChat,
  LlamaContext,
  LlamaContextSequence,
  LlamaGrammar,
  LlamaModel,
} from 'node-llama-cpp' with { 'resolution-mode': 'import' };
import type { Message, OutputFormat } from '../common/request-schema';

/** What one generation needs: the conversation and OpenAI's sampling settings. */
export interface GenerationInput {
  messages: Message[];
  temperature?: number;
  topP?: number;
  maxTokens?: number;
  stop?: string[];
  seed?: number;
  output?: OutputFormat;
}

export interface GenerationResult {
  text: string;
  finishReason: 'stop' | 'length';
  promptTokens: number;
  completionTokens: number;
}

/** The request asks for something this model cannot do; a 400 that names it. */
export class UnsupportedInputError extends Error {
  override name = 'UnsupportedInputError';
  constructor(
    message: string,
    readonly param: string | null,
    readonly code: 'unsupported_parameter' | 'context_length_exceeded' | 'invalid_value',
  ) {
    super(message);
  }
}

export interface EngineOptions {
  /** The id callers name in `model`. */
  id: string;
  modelPath: string;
  /** CPU threads for generation. Always set: node-llama-cpp's own default is far slower in small VMs. */
  threads: number;
  /** Generations that run at once (one context sequence each). */
  slots: number;
  /** Tokens of prompt plus answer per generation. Capped at the model's training context. */
  contextSize: number;
  /** Answer length when the request sets no `max_tokens`. */
  maxOutputTokens: number;
  /** Sampling temperature when the request sets none (small models ramble at OpenAI's default of 1). */
  defaultTemperature: number;
  log?: (level: string, message: string) => void;
}

/**
 * A GGUF model loaded with node-llama-cpp on the CPU only (`gpu: false`,
 * prebuilt binaries only: `build: 'never'`), one context with a sequence per
 * slot. Each generation clears its sequence first, so answers never share state.
 */
export class LocalModelEngine {
  private readonly grammars = new Map<string, Promise<LlamaGrammar>>();

  private constructor(
    private readonly Chat: typeof LlamaChat,
    private readonly chatWrapper: ChatWrapper,
    private readonly llama: Llama,
    private readonly model: LlamaModel,
    private readonly context: LlamaContext,
    private readonly sequences: LlamaContextSequence[],
    private readonly options: EngineOptions,
  ) {}

  static async load(options: EngineOptions): Promise<LocalModelEngine> {
    // node-llama-cpp is ESM with top-level await: imported, never required.
    const nlc = await import('node-llama-cpp');
    const llama = await nlc.getLlama({
      gpu: false,
      build: 'never',
      logLevel: nlc.LlamaLogLevel.warn,
      logger: (level, message) => options.log?.(String(level), message.trim()),
    });
    const model = await llama.loadModel({ modelPath: options.modelPath });
    const context = await model.createContext({
      contextSize: Math.min(options.contextSize, model.trainContextSize),
      sequences: options.slots,
      threads: options.threads,
    });
    const sequences = Array.from({ length: options.slots }, () => context.getSequence());
    // Resolved once: LlamaChat's "auto" re-reads the model's template on every construction (~300 ms here).
    const chatWrapper = nlc.resolveChatWrapper(model);
    options.log?.('info', `chat template: ${chatWrapper.wrapperName}`);
    return new LocalModelEngine(nlc.LlamaChat, chatWrapper, llama, model, context, sequences, options);
  }

  get id(): string {
    return this.options.id;
  }

  get contextSize(): number {
    return this.context.contextSize;
  }

  /** Generates on `slot`'s sequence (the caller holds the slot). `onText` receives each piece as it is made. */
  async generate(slot: number, input: GenerationInput, handlers: { onText?: (text: string) => void; signal?: AbortSignal } = {}): Promise<GenerationResult> {
    const sequence = this.sequences[slot];
    if (sequence === undefined) throw new Error(`no slot ${slot}`);
    const history = toChatHistory(input.messages);
    const grammar = await this.grammarFor(input.output);
    await sequence.clearHistory();
    const chat = new this.Chat({ contextSequence: sequence, chatWrapper: this.chatWrapper, autoDisposeSequence: false });
    try {
      const promptTokens = chat.chatWrapper
        .generateContextState({ chatHistory: history })
        .contextText.tokenize(this.model.tokenizer).length;
      const room = this.contextSize - promptTokens;
      if (room < 1 || (input.maxTokens !== undefined && input.maxTokens > room)) {
        throw new UnsupportedInputError(
          `This model's context holds ${this.contextSize} tokens; the messages take ${promptTokens}` +
            (input.maxTokens === undefined ? '.' : ` and max_tokens asks for ${input.maxTokens} more.`),
          'messages',
          'context_length_exceeded',
        );
      }
      let completionTokens = 0;
      const result = await chat.generateResponse(history, {
        temperature: input.temperature ?? this.options.defaultTemperature,
        ...(input.topP === undefined ? {} : { topP: input.topP }),
        ...(input.seed === undefined ? {} : { seed: input.seed }),
        maxTokens: input.maxTokens ?? Math.min(this.options.maxOutputTokens, room),
        ...(input.stop === undefined || input.stop.length === 0 ? {} : { customStopTriggers: input.stop }),
        ...(grammar === undefined ? {} : { grammar }),
        ...(handlers.signal === undefined ? {} : { signal: handlers.signal }),
        onToken: (tokens) => {
          completionTokens += tokens.length;
        },
        ...(handlers.onText === undefined ? {} : { onTextChunk: handlers.onText }),
      });
      return {
        text: result.response,
        finishReason: result.metadata.stopReason === 'maxTokens' ? 'length' : 'stop',
        promptTokens,
        completionTokens,
      };
    } finally {
      chat.dispose({ disposeSequence: false });
    }
  }

  /** Constrained decoding for `json_object` / `json_schema`: the answer always parses. Cached per schema. */
  private grammarFor(output: OutputFormat | undefined): Promise<LlamaGrammar> | undefined {
    if (output === undefined || output.type === 'text') return undefined;
    const key = output.type === 'json_object' ? 'json' : JSON.stringify(output.schema);
    let grammar = this.grammars.get(key);
    if (grammar === undefined) {
      grammar =
        output.type === 'json_object'
          ? this.llama.getGrammarFor('json')
          : createJsonSchemaGrammar(this.llama, output.schema).catch((error: unknown) => {
              this.grammars.delete(key);
              throw new UnsupportedInputError(
                `response_format.json_schema.schema cannot be enforced by the local model: ${error instanceof Error ? error.message : String(error)}`,
                'response_format',
                'invalid_value',
              );
            });
      if (this.grammars.size >= 64) this.grammars.clear();
      this.grammars.set(key, grammar);
    }
    return grammar;
  }

  async close(): Promise<void> {
    await this.context.dispose();
    await this.model.dispose();
    await this.llama.dispose();
  }
}

/** The schema is the caller's (checked by node-llama-cpp, which throws on what it cannot enforce). */
function createJsonSchemaGrammar(llama: Llama, schema: Record<string, unknown>): Promise<LlamaGrammar> {
  const create = llama.createGrammarForJsonSchema.bind(llama) as (schema: GbnfJsonSchema) => Promise<LlamaGrammar>;
  return create(schema as GbnfJsonSchema);
}

/** OpenAI-style messages → node-llama-cpp's chat history, ending with the model's (empty) turn to continue. */
export function toChatHistory(messages: readonly Message[]): ChatHistoryItem[] {
  const history: ChatHistoryItem[] = messages.map((message, index): ChatHistoryItem => {
    switch (message.role) {
      case 'system':
        return { type: 'system', text: message.content };
      case 'user':
        if (typeof message.content === 'string') return { type: 'user', text: message.content };
        return {
          type: 'user',
          text: message.content
            .map((part) => {
              if (part.type === 'text') return part.text;
              throw new UnsupportedInputError('This local model reads text only, not images.', `messages.${index}.content`, 'unsupported_parameter');
            })
            .join(''),
        };
      case 'assistant':
        if ((message.toolCalls ?? []).length > 0) {
          throw new UnsupportedInputError('This local model does not call tools.', `messages.${index}.tool_calls`, 'unsupported_parameter');
        }
        return { type: 'model', response: [message.content ?? ''] };
      case 'tool':
        throw new UnsupportedInputError('This local model does not call tools.', `messages.${index}`, 'unsupported_parameter');
    }
  });
  if (history.at(-1)?.type !== 'model') history.push({ type: 'model', response: [] });
  return history;
}
