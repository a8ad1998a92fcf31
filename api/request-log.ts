import type { GatewayConfig } from '../common/config-schema';
import type { CanonicalRequest } from '../common/request-schema';
import type { CanonicalResponse } from '../common/response-schema';

/** The LLM routes, as log fields and metric labels. */
export type LlmRoute = 'chat_completions' | 'messages';

/** Longest prompt or output text a log line carries when `logging.prompts` is on. */
const MAX_LOGGED_TEXT = 2_000;

/**
 * One JSON line per LLM request, answered or not: route, tenant, workflow id,
 * the model that answered, outcome, fallbacks with their failure types,
 * status and duration. Never a key; the prompt and output only when the
 * config's `logging.prompts` asks for them.
 */
export function logRequest(fields: {
  route: LlmRoute;
  tenantId: string;
  workflowId: string;
  config: GatewayConfig;
  request: CanonicalRequest;
  result?: CanonicalResponse;
  status: number;
  error?: string;
  seconds: number;
}): void {
  const { result } = fields;
  const line: Record<string, unknown> = {
    time: new Date().toISOString(),
    level: fields.status >= 500 ? 'error' : 'info',
    msg: 'llm request',
    route: fields.route,
    tenant: fields.tenantId,
    workflowId: fields.workflowId,
    requested: fields.request.model,
    model: result?.model,
    provider: result?.provider,
    outcome: result?.outcome ?? 'error',
    fallbacks: result?.fallbacks,
    failures: result?.attempts.filter((attempt) => attempt.outcome === 'failed').map((attempt) => `${attempt.model}:${attempt.failureType ?? 'unknown'}`),
    status: fields.status,
    error: fields.error,
    durationMs: Math.round(fields.seconds * 1000),
  };
  if (fields.config.logging.prompts) {
    const last = fields.request.messages.at(-1);
    const prompt = last === undefined ? '' : typeof last.content === 'string' ? last.content : JSON.stringify(last.content);
    line.prompt = (prompt ?? '').slice(0, MAX_LOGGED_TEXT);
    line.output = result?.text?.slice(0, MAX_LOGGED_TEXT);
  }
  process.stderr.write(`${JSON.stringify(line)}\n`);
}
