import { randomUUID } from 'node:crypto';
import type { Client } from '@temporalio/client';
import { Router, type Response } from 'express';
import { z } from 'zod';
import { ASK_HUMAN_TOOL, BUILT_IN_TOOLS } from '../../common/built-in-tools';
import { toolServesTenant } from '../../common/agent-tool-scope';
import { own } from '../../common/own';
import type { Tool } from '../../common/request-schema';
import { TENANT_ATTRIBUTE } from '../../common/search-attributes';
import type { ConfigStore } from '../../services/config-store';
import { agentInputSignal, agentRunQuery, agentRunWorkflow, type AgentRunView } from '../../workflows/agent/agent-run-workflow';
import { HttpError } from '../../dialects/http-error';
import { assertRequestableModel } from '../explain-route';
import { jobView, listOwnedIds, ownedWorkflow } from '../owned-workflow';
import { ChatCompletionRequestSchema } from '../../dialects/openai/chat-completion-request-schema';
import { toCanonicalRequest } from '../../dialects/openai/convert-chat-completion';
import { parseBody } from '../../dialects/parse-body';
import { boundedTemporalCall, cancelLateStart } from '../../client/temporal-unavailable';

const StartRunSchema = z
  .object({
    model: z.string().min(1).max(200),
    messages: ChatCompletionRequestSchema.shape.messages,
    /** Tool names: built-in (`calculator`, `current_time`, `ask_human`) or the config's `agents.tools` that serve the tenant. */
    tools: z.array(z.string().min(1).max(64)).max(32).default([]),
    /** At most the config's `agents.maxSteps` (also the default). */
    max_steps: z.number().int().min(1).max(1_000).optional(),
  })
  .strict();

const InputSchema = z.object({ text: z.string().min(1).max(100_000) }).strict();

const TERMINAL = ['completed', 'step_limit', 'failed', 'cancelled'];

/**
 * Agent runs: `POST /v1/agent/runs` starts one, `GET /v1/agent/runs` lists the newest, `GET /v1/agent/runs/:id` is
 * its status and transcript, `GET /v1/agent/runs/:id/events` streams its
 * events (SSE), `POST /v1/agent/runs/:id/input` answers a run waiting for a
 * person, `POST /v1/agent/runs/:id/cancel` cancels it. A tenant sees only its own runs.
 */
export function agentRunsRouter(store: ConfigStore, client: Client, taskQueue: string): Router {
  const router = Router();

  // The tenant's newest runs, without their transcripts (`GET /v1/agent/runs/:id` has them).
  router.get('/v1/agent/runs', async (request, response) => {
    const tenantId = response.locals.tenantId as string;
    const ids = await listOwnedIds(client, { type: 'agentRunWorkflow', tenantId, limit: request.query.limit });
    const data = await Promise.all(
      ids.map(async (id) => {
        const { messages: _messages, events, ...summary } = await describeRun(client, id, tenantId);
        return { ...summary, last_event: events.at(-1) ?? null };
      }),
    );
    response.json({ object: 'list', data, first_id: data[0]?.id ?? null, last_id: data.at(-1)?.id ?? null, has_more: false });
  });

  router.post('/v1/agent/runs', async (request, response) => {
    const tenantId = response.locals.tenantId as string;
    const body = parseBody(StartRunSchema, request.body);
    const { config } = store.loaded;
    // Another tenant's tool is as unknown as a missing one: its name is not revealed either.
    const tenantTools = Object.entries(config.agents.tools).filter(([, tool]) => toolServesTenant(tool, tenantId));
    const tools: Tool[] = body.tools.map((name) => {
      if (name === ASK_HUMAN_TOOL.name) return ASK_HUMAN_TOOL;
      const builtIn = own(BUILT_IN_TOOLS, name);
      if (builtIn) return builtIn;
      const configured = own(config.agents.tools, name);
      if (configured && toolServesTenant(configured, tenantId)) return { name, description: configured.description, parameters: configured.parameters };
      throw new HttpError(400, 'invalid_request_error', `unknown tool "${name}"; available: ${[ASK_HUMAN_TOOL.name, ...Object.keys(BUILT_IN_TOOLS), ...tenantTools.map(([toolName]) => toolName)].join(', ')}`, { param: 'tools' });
    });
    if (body.max_steps !== undefined && body.max_steps > config.agents.maxSteps) {
      throw new HttpError(400, 'invalid_request_error', `max_steps ${body.max_steps} is above this gateway's limit of ${config.agents.maxSteps} (agents.maxSteps)`, { param: 'max_steps', code: 'max_steps_above_limit' });
    }
    assertRequestableModel(config, body.model);
    const runId = `run_${randomUUID().replace(/-/g, '')}`;
    const messages = toCanonicalRequest(ChatCompletionRequestSchema.parse({ model: body.model, messages: body.messages }), { requestId: runId, tenantId }).messages;
    const input = {
      runId,
      tenantId,
      model: body.model,
      messages,
      tools,
      maxSteps: body.max_steps ?? config.agents.maxSteps,
      initialWaitMs: config.agents.initialWaitMs,
      maxWaitMs: config.agents.maxWaitMs,
      continueAsNewAfterEvents: config.agents.continueAsNewAfterEvents,
    };
    // Unreachable Temporal: a 503 and no run (one that starts after all is cancelled: the retry makes another).
    await boundedTemporalCall(
      client,
      () =>
        client.workflow.start(agentRunWorkflow, {
          taskQueue,
          workflowId: runId,
          args: [input],
          typedSearchAttributes: [{ key: TENANT_ATTRIBUTE, value: tenantId }],
          staticSummary: `agent run for ${tenantId} on ${body.model}`,
        }),
      { what: 'the gateway cannot reach Temporal and did not start the run', onLate: (pending) => cancelLateStart(client, runId, pending) },
    );
    // Temporal took the run: the caller gets it even if Temporal cannot be read back just now.
    const view = await describeRun(client, runId, tenantId).catch((): AgentRunView => ({
      id: runId,
      object: 'agent.run',
      status: 'running',
      model: input.model,
      step: 0,
      max_steps: input.maxSteps,
      answer: null,
      question: null,
      error: null,
      messages,
      events: [],
    }));
    response.status(201).json(view);
  });

  router.get('/v1/agent/runs/:id', async (request, response) => {
    response.json(await describeRun(client, request.params.id ?? '', response.locals.tenantId as string));
  });

  router.post('/v1/agent/runs/:id/input', async (request, response) => {
    const tenantId = response.locals.tenantId as string;
    const body = parseBody(InputSchema, request.body);
    const run = await describeRun(client, request.params.id ?? '', tenantId);
    if (run.status !== 'waiting_for_input') throw new HttpError(409, 'invalid_request_error', `run ${run.id} is ${run.status}, not waiting for input`, { code: 'run_not_waiting' });
    await client.workflow.getHandle(run.id).signal(agentInputSignal, { text: body.text });
    response.status(202).json({ id: run.id, accepted: true });
  });

  router.post('/v1/agent/runs/:id/cancel', async (request, response) => {
    const run = await describeRun(client, request.params.id ?? '', response.locals.tenantId as string);
    if (TERMINAL.includes(run.status)) throw new HttpError(409, 'invalid_request_error', `run ${run.id} has ended (${run.status})`, { code: 'run_ended' });
    // Asking twice is harmless, so a cancel Temporal may not have received is a 503 to retry.
    await boundedTemporalCall(client, () => client.workflow.getHandle(run.id).cancel());
    response.status(202).json({ id: run.id, status: 'cancelling' });
  });

  // Open event streams per tenant on this process: each polls Temporal while open.
  const openStreams = new Map<string, number>();
  router.get('/v1/agent/runs/:id/events', async (request, response) => {
    const tenantId = response.locals.tenantId as string;
    const id = request.params.id ?? '';
    const limits = store.loaded.config.agents.eventStreams;
    const open = openStreams.get(tenantId) ?? 0;
    if (open >= limits.maxPerTenant) {
      throw new HttpError(429, 'rate_limit_error', `at most ${limits.maxPerTenant} event streams open at once per tenant (agents.eventStreams.maxPerTenant); close one first`, { code: 'too_many_event_streams' });
    }
    openStreams.set(tenantId, open + 1);
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      const left = (openStreams.get(tenantId) ?? 1) - 1;
      if (left <= 0) openStreams.delete(tenantId);
      else openStreams.set(tenantId, left);
    };
    try {
      await describeRun(client, id, tenantId);
    } catch (error) {
      release();
      throw error;
    }
    void streamRunEvents(response, () => describeRun(client, id, tenantId), limits).finally(release);
  });
  return router;
}

/**
 * Server-sent events: each new event of the run as it happens, then `done`
 * with the final status; or `idle` when nothing happened for
 * `idleTimeoutMs` (the client reconnects if it still cares). While the
 * socket's buffer is full, polling waits for it to drain.
 */
export async function streamRunEvents(response: Response, read: () => Promise<AgentRunView>, limits: { idleTimeoutMs: number; pollIntervalMs: number }): Promise<void> {
  response.status(200).set({ 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', 'x-accel-buffering': 'no' });
  response.flushHeaders();
  let sent = -1;
  let closed = false;
  let wake: (() => void) | undefined;
  response.on('close', () => {
    closed = true;
    wake?.();
  });
  // Sleeps, drain waits and the idle clock all end when the client goes.
  const waitFor = (arm: (done: () => void) => void) =>
    new Promise<void>((resolve) => {
      wake = resolve;
      arm(resolve);
    });
  let lastEventAt = Date.now();
  while (!closed) {
    const run = await read().catch(() => undefined);
    if (closed) return;
    let writable = true;
    if (run) {
      for (const event of run.events) {
        if (event.seq <= sent) continue;
        writable = response.write(`event: ${event.kind}\ndata: ${JSON.stringify(event)}\n\n`) && writable;
        sent = event.seq;
        lastEventAt = Date.now();
      }
      if (TERMINAL.includes(run.status)) {
        response.end(`event: done\ndata: ${JSON.stringify({ status: run.status, answer: run.answer, error: run.error })}\n\n`);
        return;
      }
    }
    if (Date.now() - lastEventAt >= limits.idleTimeoutMs) {
      response.end(`event: idle\ndata: ${JSON.stringify({ idle_ms: limits.idleTimeoutMs, status: run?.status ?? null })}\n\n`);
      return;
    }
    // Backpressure: a client that does not read holds no poll loop.
    if (!writable) await waitFor((done) => response.once('drain', done));
    const timer = { handle: undefined as NodeJS.Timeout | undefined };
    await waitFor((done) => (timer.handle = setTimeout(done, limits.pollIntervalMs)));
    clearTimeout(timer.handle);
  }
}

async function describeRun(client: Client, runId: string, tenantId: string): Promise<AgentRunView> {
  const { handle, status } = await ownedWorkflow<typeof agentRunWorkflow>(client, {
    id: runId,
    idPattern: /^run_[a-f0-9]{32}$/,
    type: 'agentRunWorkflow',
    tenantId,
    notFound: 'No such agent run',
    code: 'run_not_found',
  });
  const view = await jobView(handle, status, agentRunQuery);
  if (status === 'COMPLETED') return view;
  if (status === 'CANCELLED') return { ...view, status: 'cancelled' };
  if (status !== 'RUNNING' && !TERMINAL.includes(view.status)) return { ...view, status: 'failed', error: `the run ended ${status.toLowerCase()}` };
  return view;
}
