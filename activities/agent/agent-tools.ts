import { ApplicationFailure, Context } from '@temporalio/activity';
import { toolRefusalText, toolServesTenant, type ToolRefusal, type ToolRefusalReason } from '../../common/agent-tool-scope';
import { own } from '../../common/own';
import type { Tool } from '../../common/request-schema';
import { BUILT_IN_TOOLS } from '../../common/built-in-tools';
import type { ActivityDependencies } from '../call-provider';

export interface ToolCallInput {
  name: string;
  /** JSON-encoded arguments, as the model wrote them. */
  arguments: string;
  /** `<run id>/<step>/<tool call id>`: the same on every retry, so a tool with side effects can run once. */
  idempotencyKey: string;
  /** The run's tenant: an HTTP tool runs only if it serves this tenant. Absent (a call scheduled before scoping): refused. */
  tenantId?: string;
  /** Names of the tools the run was given: any other name is refused. Absent (a call scheduled before scoping): refused. */
  allowedTools?: string[];
}

/** Runs one tool call; its text result goes back to the model (errors too, as text the model can read). */
export function createAgentToolActivities(dependencies: ActivityDependencies) {
  const recordRefusal = (refusal: ToolRefusal): void => {
    const event = { audit: 'agent_tool_refused', ...refusal };
    if (dependencies.audit) dependencies.audit.record(event);
    else process.stderr.write(`${JSON.stringify({ level: 'warn', time: new Date().toISOString(), ...event })}\n`);
  };
  return {
    /** Records a tool call the workflow refused (a name outside the run's tools) in the audit trail. */
    async recordToolRefusal(refusal: ToolRefusal): Promise<void> {
      recordRefusal(refusal);
    },

    async runAgentTool(call: ToolCallInput): Promise<string> {
      // Checked again here, whatever the workflow decided: a prompt-injected model must not reach another team's tool.
      const tool = own(BUILT_IN_TOOLS, call.name) ? undefined : own(dependencies.store.current.loaded.config.agents.tools, call.name);
      const reason: ToolRefusalReason | undefined = !call.allowedTools?.includes(call.name)
        ? 'not_given_to_run'
        : tool && (call.tenantId === undefined || !toolServesTenant(tool, call.tenantId))
          ? 'not_available_to_tenant'
          : undefined;
      if (reason !== undefined) {
        const [runId = '', step = '0'] = call.idempotencyKey.split('/');
        recordRefusal({ runId, tenantId: call.tenantId ?? '', step: Number(step), tool: call.name, reason, checkedBy: 'activity' });
        return toolRefusalText(call.name, reason);
      }
      let args: Record<string, unknown>;
      try {
        const parsed: unknown = JSON.parse(call.arguments || '{}');
        args = typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : {};
      } catch {
        return `error: the arguments are not JSON: ${call.arguments.slice(0, 200)}`;
      }
      if (call.name === 'calculator') return calculate(String(args.expression ?? ''));
      if (call.name === 'current_time') return new Date().toISOString();
      if (!tool) return `error: no tool named ${call.name}`;
      const context = Context.current();
      const timeout = AbortSignal.timeout(tool.timeoutMs);
      const signal = AbortSignal.any([timeout, context.cancellationSignal]);
      const heartbeat = setInterval(() => context.heartbeat(), 1_000);
      try {
        const response = await fetch(tool.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'idempotency-key': call.idempotencyKey },
          body: JSON.stringify({ tool: call.name, arguments: args, idempotency_key: call.idempotencyKey }),
          // A redirect could lead the gateway's POST (and its idempotency key) anywhere, an internal address included.
          redirect: 'manual',
          signal,
        });
        if (response.status >= 300 && response.status < 400) {
          await response.body?.cancel();
          return `error: tool ${call.name} answered HTTP ${response.status} (a redirect; tools are never followed elsewhere)`;
        }
        const { text: read, cut } = await readAtMost(response, tool.maxResultChars);
        const text = cut ? `${read}\n[cut: the answer is longer than ${tool.maxResultChars} characters]` : read;
        // The caller's server is down or overloaded: Temporal retries with the same key.
        if (response.status >= 500 || response.status === 429) {
          throw ApplicationFailure.retryable(`tool ${call.name} answered HTTP ${response.status}`, 'ToolUnavailable');
        }
        return response.ok ? text : `error: tool ${call.name} answered HTTP ${response.status}: ${text.slice(0, 500)}`;
      } finally {
        clearInterval(heartbeat);
      }
    },
  };
}

/**
 * The body's first `maxChars` characters, read as a stream: the read stops
 * there and the rest is never downloaded, whatever the tool sends.
 */
async function readAtMost(response: Response, maxChars: number): Promise<{ text: string; cut: boolean }> {
  if (!response.body) return { text: '', cut: false };
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let text = '';
  try {
    for (;;) {
      const { done, value } = await reader.read();
      text += done ? decoder.decode() : decoder.decode(value, { stream: true });
      if (text.length > maxChars) return { text: text.slice(0, maxChars), cut: true };
      if (done) return { text, cut: false };
    }
  } finally {
    // Closes the connection when the read stopped early.
    await reader.cancel().catch(() => undefined);
  }
}

/** Arithmetic only: a tiny recursive-descent parser, no eval. */
export function calculate(expression: string): string {
  const tokens = expression.match(/\d+(?:\.\d+)?|[-+*/%()]/g) ?? [];
  if (tokens.join('') !== expression.replace(/\s+/g, '') || tokens.length === 0) return `error: not an arithmetic expression: ${expression.slice(0, 200)}`;
  let position = 0;
  const peek = () => tokens[position];
  const take = () => tokens[position++];
  const primary = (): number => {
    const token = take();
    if (token === '(') {
      const value = sum();
      if (take() !== ')') throw new Error('missing )');
      return value;
    }
    if (token === '-') return -primary();
    if (token === undefined || !/^\d/.test(token)) throw new Error(`unexpected ${token ?? 'end'}`);
    return Number(token);
  };
  const product = (): number => {
    let value = primary();
    while (peek() === '*' || peek() === '/' || peek() === '%') {
      const operator = take();
      const right = primary();
      value = operator === '*' ? value * right : operator === '/' ? value / right : value % right;
    }
    return value;
  };
  const sum = (): number => {
    let value = product();
    while (peek() === '+' || peek() === '-') value = take() === '+' ? value + product() : value - product();
    return value;
  };
  try {
    const value = sum();
    if (position !== tokens.length) throw new Error(`unexpected ${peek()}`);
    return Number.isFinite(value) ? String(value) : 'error: the result is not a finite number';
  } catch (error) {
    return `error: ${(error as Error).message}`;
  }
}
