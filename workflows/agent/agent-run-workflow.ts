// Runs in the workflow sandbox: deterministic, no I/O.
import {
  ApplicationFailure,
  ChildWorkflowFailure,
  ContinueAsNew,
  condition,
  continueAsNew,
  defineQuery,
  defineSignal,
  isCancellation,
  patched,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  sleep,
  startChild,
  workflowInfo,
} from '@temporalio/workflow';
import type { GatewayActivities } from '../../activities/create-activities';
import { toolRefusalText } from '../../common/agent-tool-scope';
import type { CanonicalResponse } from '../../common/response-schema';
import type { Message, Tool, ToolCall } from '../../common/request-schema';
import { TENANT_ATTRIBUTE } from '../../common/search-attributes';
import { llmRequestWorkflow } from '../llm-request-workflow';

/** Continue as new past this many history events (between steps), unless the run says otherwise. */
const HISTORY_EVENTS_LIMIT = 5_000;
/** Events a run keeps (the newest). */
const EVENTS_KEPT = 500;
/**
 * Patch: a tool call naming a tool outside the run's tools is refused here
 * (an audit activity, a failed result to the model) instead of going to
 * `runAgentTool`. Runs recorded before it replay the old commands.
 */
export const TOOL_SCOPE_PATCH = 'agent-tool-scope';
/**
 * Patch: a run waiting out an outage continues as new between attempts once
 * its history grows long, as it does between steps. Runs recorded before it
 * replay the old commands (the next attempt's child workflow).
 */
export const WAITING_CONTINUE_AS_NEW_PATCH = 'agent-waiting-continue-as-new';
/** Recording a refused tool call in the audit trail: one quick write. */
const AUDIT_TIMEOUT_MS = 30_000;

export type AgentRunStatus = 'running' | 'waiting_for_model' | 'waiting_for_input' | 'completed' | 'step_limit' | 'failed' | 'cancelled';

export interface AgentEvent {
  /** Position in the run's event stream (never reused). */
  seq: number;
  at: string;
  step: number;
  kind: 'model' | 'tool' | 'waiting' | 'question' | 'input' | 'final' | 'failed';
  text: string;
  model?: string;
  tool?: string;
}

export interface AgentRunInput {
  runId: string;
  tenantId: string;
  model: string;
  messages: Message[];
  tools: Tool[];
  maxSteps: number;
  initialWaitMs: number;
  maxWaitMs: number;
  /** Continue as new past this many history events (`agents.continueAsNewAfterEvents`). */
  continueAsNewAfterEvents?: number;
  /** Carried over continue-as-new. */
  state?: AgentRunState;
}

interface AgentRunState {
  step: number;
  messages: Message[];
  events: AgentEvent[];
  nextSeq: number;
  /** Set when the run continued as new while waiting for a model: the step's next attempt and wait. */
  waiting?: { attempt: number; waitMs: number };
}

export interface AgentRunView {
  id: string;
  object: 'agent.run';
  status: AgentRunStatus;
  model: string;
  step: number;
  max_steps: number;
  answer: string | null;
  /** While waiting for a person: the question asked. */
  question: string | null;
  error: string | null;
  messages: Message[];
  events: AgentEvent[];
}

export const agentRunQuery = defineQuery<AgentRunView>('run');
export const agentInputSignal = defineSignal<[{ text: string }]>('input');

const { runAgentTool } = proxyActivities<GatewayActivities>({
  startToCloseTimeout: 10 * 60_000,
  // The activity beats every second: a crashed worker's tool call is retried within seconds.
  heartbeatTimeout: 5_000,
  retry: { initialInterval: 1_000, maximumInterval: 30_000, maximumAttempts: 10 },
  summary: 'agent tool',
});

const { recordToolRefusal } = proxyActivities<GatewayActivities>({
  startToCloseTimeout: AUDIT_TIMEOUT_MS,
  retry: { initialInterval: 1_000, maximumInterval: 10_000, maximumAttempts: 10 },
  summary: 'agent tool refused',
});

/**
 * An agent run: a model call (a request workflow of its own: routed, with
 * fallback) → the tool calls it asked for, each an activity with an
 * idempotency key (`<run>/<step>/<call>`, the same on every retry) → the next
 * model call, until a final answer or the step limit. `ask_human` waits for
 * a person's input (signal). When every model of the route is down, the run
 * waits with backoff and tries again instead of failing. Continues as new
 * between steps once its history grows long.
 */
export async function agentRunWorkflow(input: AgentRunInput): Promise<AgentRunView> {
  const state: AgentRunState = input.state ?? { step: 0, messages: [...input.messages], events: [], nextSeq: 0 };
  let status: AgentRunStatus = 'running';
  let answer: string | null = null;
  let question: string | null = null;
  let error: string | null = null;
  const inputs: string[] = [];

  const view = (): AgentRunView => ({
    id: input.runId,
    object: 'agent.run',
    status,
    model: input.model,
    step: state.step,
    max_steps: input.maxSteps,
    answer,
    question,
    error,
    messages: state.messages,
    events: state.events,
  });
  const emit = (event: Omit<AgentEvent, 'seq' | 'at' | 'step'>): void => {
    state.events.push({ seq: state.nextSeq++, at: new Date(Date.now()).toISOString(), step: state.step, ...event });
    if (state.events.length > EVENTS_KEPT) state.events.splice(0, state.events.length - EVENTS_KEPT);
    setCurrentDetails(`**Agent run** \`${input.runId}\` · ${status} · step ${state.step}/${input.maxSteps}\n\n${state.events.slice(-5).map((entry) => `- ${entry.kind}${entry.tool ? ` ${entry.tool}` : ''}: ${entry.text.slice(0, 120)}`).join('\n')}`);
  };
  setHandler(agentRunQuery, view);
  setHandler(agentInputSignal, ({ text }) => {
    inputs.push(text);
  });

  try {
    while (state.waiting !== undefined || state.step < input.maxSteps) {
      // A run that continued as new while waiting for a model resumes that step.
      if (state.waiting === undefined) state.step += 1;
      const response = await modelStep();
      const toolCalls = response.toolCalls;
      state.messages.push({ role: 'assistant', content: response.text, ...(toolCalls.length > 0 ? { toolCalls } : {}) });
      emit({ kind: 'model', text: response.text ?? `${toolCalls.length} tool call(s)`, model: response.model });
      if (toolCalls.length === 0) {
        answer = response.text ?? '';
        status = 'completed';
        emit({ kind: 'final', text: answer });
        return view();
      }
      for (const call of toolCalls) state.messages.push({ role: 'tool', toolCallId: call.id, content: await runTool(call) });
      // Past the event limit, or when the server suggests it (history size): a fresh run carries the state.
      if (historyIsLong() && state.step < input.maxSteps) {
        await continueAsNew<typeof agentRunWorkflow>({ ...input, state });
      }
    }
    status = 'step_limit';
    emit({ kind: 'failed', text: `stopped at the step limit (${input.maxSteps}) without a final answer` });
    return view();
  } catch (caught) {
    // Continuing as new is a throw too: it must leave the workflow, not end the run as failed.
    if (caught instanceof ContinueAsNew) throw caught;
    if (isCancellation(caught)) {
      status = 'cancelled';
      throw caught;
    }
    status = 'failed';
    error = innermost(caught);
    emit({ kind: 'failed', text: error });
    return view();
  }

  /** Past the event limit, or when the server suggests it (history size): time for a fresh run. */
  function historyIsLong(): boolean {
    const { historyLength, continueAsNewSuggested } = workflowInfo();
    return historyLength > (input.continueAsNewAfterEvents ?? HISTORY_EVENTS_LIMIT) || continueAsNewSuggested;
  }

  /** One model call; while every model is down, waits with backoff and tries again. */
  async function modelStep(): Promise<CanonicalResponse> {
    let waitMs = state.waiting?.waitMs ?? input.initialWaitMs;
    const firstAttempt = state.waiting?.attempt ?? 1;
    delete state.waiting;
    for (let attempt = firstAttempt; ; attempt++) {
      status = 'running';
      const child = await startChild(llmRequestWorkflow, {
        workflowId: `${input.runId}-step-${state.step}-${attempt}`,
        args: [
          {
            requestId: `${input.runId}-step-${state.step}-${attempt}`,
            tenantId: input.tenantId,
            model: input.model,
            messages: state.messages,
            ...(input.tools.length > 0 ? { tools: input.tools } : {}),
            sampling: {},
            tags: {},
          },
          { entry: 'agent' },
        ],
        typedSearchAttributes: [{ key: TENANT_ATTRIBUTE, value: input.tenantId }],
        staticSummary: `agent run ${input.runId}, step ${state.step}`,
      });
      const response = await child.result();
      if (response.outcome !== 'fallback_answer') return response;
      status = 'waiting_for_model';
      emit({ kind: 'waiting', text: `every model of ${input.model} is down; trying again in ${Math.round(waitMs / 1000)} s` });
      await sleep(waitMs);
      waitMs = Math.min(waitMs * 2, input.maxWaitMs);
      // A long outage must not grow one history without end: a fresh run carries the state and the backoff.
      if (historyIsLong() && patched(WAITING_CONTINUE_AS_NEW_PATCH)) {
        state.waiting = { attempt: attempt + 1, waitMs };
        await continueAsNew<typeof agentRunWorkflow>({ ...input, state });
      }
    }
  }

  async function runTool(call: ToolCall): Promise<string> {
    // Only the tools the run was started with, ask_human and built-ins included: a model cannot widen its own set.
    if (!input.tools.some((tool) => tool.name === call.name) && patched(TOOL_SCOPE_PATCH)) {
      const text = toolRefusalText(call.name, 'not_given_to_run');
      await recordToolRefusal({ runId: input.runId, tenantId: input.tenantId, step: state.step, tool: call.name, reason: 'not_given_to_run', checkedBy: 'workflow' });
      emit({ kind: 'tool', text, tool: call.name });
      return text;
    }
    if (call.name === 'ask_human') {
      question = parseQuestion(call.arguments);
      status = 'waiting_for_input';
      emit({ kind: 'question', text: question, tool: call.name });
      await condition(() => inputs.length > 0);
      const text = inputs.shift() ?? '';
      question = null;
      status = 'running';
      emit({ kind: 'input', text, tool: call.name });
      return text;
    }
    const result = await runAgentTool({
      name: call.name,
      arguments: call.arguments,
      idempotencyKey: `${input.runId}/${state.step}/${call.id}`,
      tenantId: input.tenantId,
      allowedTools: input.tools.map((tool) => tool.name),
    });
    emit({ kind: 'tool', text: result, tool: call.name });
    return result;
  }
}

function parseQuestion(argumentsJson: string): string {
  try {
    const parsed = JSON.parse(argumentsJson) as { question?: unknown };
    return typeof parsed.question === 'string' ? parsed.question : argumentsJson;
  } catch {
    return argumentsJson;
  }
}

function innermost(error: unknown): string {
  let current: unknown = error instanceof ChildWorkflowFailure && error.cause ? error.cause : error;
  while (current instanceof Error && current.cause instanceof Error) current = current.cause;
  if (current instanceof ApplicationFailure || current instanceof Error) return current.message;
  return String(current);
}
