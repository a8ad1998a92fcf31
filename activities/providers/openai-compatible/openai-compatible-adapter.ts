import type { AdapterSettings, ModelAdapter } from '../model-adapter';
import { createOpenAiAdapter } from '../openai/openai-adapter';
import type { OpenAiDialect } from '../openai/convert-request';

/** vLLM, Ollama and llama.cpp read `max_tokens`, not OpenAI's newer `max_completion_tokens`. */
export const OPENAI_COMPATIBLE_DIALECT: OpenAiDialect = { tokenLimitField: 'max_tokens' };

/**
 * Self-hosted servers that speak Chat Completions (vLLM, Ollama, llama.cpp):
 * the OpenAI adapter pointed at `settings.baseUrl` (e.g. `http://host:8000/v1`).
 * They usually need no key; the adapter then sends a placeholder.
 */
export function createOpenAiCompatibleAdapter(settings: AdapterSettings): ModelAdapter {
  return createOpenAiAdapter(settings, OPENAI_COMPATIBLE_DIALECT);
}
