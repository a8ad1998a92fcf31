import { resolve } from 'node:path';
import { Piscina } from 'piscina';
import { assessRequest } from './assess-request';
import { metrics } from '../../runtime/metrics';
import type { GatewayConfig } from '../../common/config-schema';
import type { CanonicalRequest } from '../../common/request-schema';
import type { RequestAssessment } from '../../common/routing-snapshot-schema';
import type { AssessPromptTask } from './assess-prompt-task';

/**
 * Prompts shorter than this are assessed on the event loop: under a
 * millisecond, less than a thread hop. Longer ones go to the pool: a 2 MB
 * prompt takes some 100-200 ms to tokenise and scan (`npm run bench --
 * --prompt-cost`), and every other request of the process would wait.
 */
export const INLINE_PROMPT_CHARS = 32 * 1024;
/** Threads for large prompts: one per core is the most they can use. */
const POOL_THREADS = 2;
/** A pool with nothing to do lets its threads go after this long. */
const POOL_IDLE_MS = 60_000;

let pool: Piscina<AssessPromptTask, RequestAssessment> | undefined;

/**
 * The API's look at a prompt (tokens, personal and secret data, tags with
 * the tenant's defaults), off the event loop when the prompt is large.
 */
export async function assessPrompt(
  request: Pick<CanonicalRequest, 'tenantId' | 'messages' | 'tools' | 'tags'>,
  config: Pick<GatewayConfig, 'tenants'>,
): Promise<RequestAssessment & { offloaded: boolean }> {
  metrics.promptAssessments.inc({ by: 'api' });
  if (promptChars(request) < INLINE_PROMPT_CHARS) return { ...assessRequest(request, config), offloaded: false };
  // Worker threads inherit this process's --import hooks (tsx), so the task loads as TypeScript.
  pool ??= new Piscina({ filename: resolve(__dirname, 'assess-prompt-task.ts'), minThreads: 0, maxThreads: POOL_THREADS, idleTimeout: POOL_IDLE_MS, atomics: 'disabled' });
  const { tenantId, messages, tools, tags } = request;
  return { ...(await pool.run({ request: { tenantId, messages, tools, tags }, tenants: config.tenants })), offloaded: true };
}

/** Stops the pool's threads (a process shutting down). */
export async function closePromptPool(): Promise<void> {
  const closing = pool;
  pool = undefined;
  await closing?.destroy();
}

function promptChars(request: Pick<CanonicalRequest, 'messages' | 'tools'>): number {
  let chars = 0;
  for (const message of request.messages) {
    if (typeof message.content === 'string') chars += message.content.length;
    else if (Array.isArray(message.content)) for (const part of message.content) chars += part.type === 'text' ? part.text.length : 0;
    if (message.role === 'assistant') for (const call of message.toolCalls ?? []) chars += call.arguments.length;
  }
  for (const tool of request.tools ?? []) chars += JSON.stringify(tool.parameters ?? {}).length;
  return chars;
}
