import assert from 'node:assert/strict';
import { createServer, type AddressInfo } from 'node:net';
import { test } from 'node:test';
import { setImmediate as nextTurn } from 'node:timers/promises';
import express from 'express';
import {
  ServiceError,
  WorkflowExecutionAlreadyStartedError,
  WorkflowFailedError,
  WorkflowNotFoundError,
  type Client,
} from '@temporalio/client';
import { ApplicationFailure, RetryState } from '@temporalio/common';
import { errorMiddleware, HttpError } from '../../dialects/http-error';
import { listen } from '../../runtime/listen';
import { rememberTemporalAddress } from '../../runtime/temporal-reachability';
import {
  TEMPORAL_RETRY_AFTER_SECONDS,
  TemporalCallTimeoutError,
  boundedTemporalCall,
  cancelLateStart,
  isTemporalUnavailable,
  temporalUnavailableError,
} from '../../client/temporal-unavailable';

/** A gRPC status error as grpc-js raises it (`code`, `details`, `metadata`). */
function grpcError(code: number, details: string): Error {
  return Object.assign(new Error(`${code} ${details}`), { code, details, metadata: {} });
}

/** Core's (a NativeConnection's) shape: a `ServiceError` that carries the status itself. */
function coreError(code: number, details: string): Error {
  return Object.assign(new ServiceError(details), { code, details, metadata: {} });
}

const UNAVAILABLE = 14;
const DEADLINE_EXCEEDED = 4;

const rows: { error: unknown; unavailable: boolean; what: string }[] = [
  { what: 'grpc-js UNAVAILABLE (no connection)', unavailable: true, error: grpcError(UNAVAILABLE, 'No connection established. Last error: connect ECONNREFUSED') },
  { what: 'grpc-js DEADLINE_EXCEEDED', unavailable: true, error: grpcError(DEADLINE_EXCEEDED, 'Deadline exceeded after 2.000s') },
  { what: "the client's ServiceError caused by UNAVAILABLE", unavailable: true, error: new ServiceError('Failed to start Workflow', { cause: grpcError(UNAVAILABLE, 'unavailable') }) },
  { what: "the client's ServiceError caused by DEADLINE_EXCEEDED", unavailable: true, error: new ServiceError('Failed to describe workflow', { cause: grpcError(DEADLINE_EXCEEDED, 'deadline') }) },
  { what: "Core's UNAVAILABLE (tcp connect error) under the client's ServiceError", unavailable: true, error: new ServiceError('Failed to start Workflow', { cause: coreError(UNAVAILABLE, 'tcp connect error') }) },
  { what: "Core's TransportError (cannot connect)", unavailable: true, error: Object.assign(new Error('Connection refused'), { name: 'TransportError' }) },
  { what: 'a socket error (ECONNREFUSED) as a cause', unavailable: true, error: new Error('fetch failed', { cause: Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }) }) },
  { what: "the API's own bound", unavailable: true, error: new TemporalCallTimeoutError(1_500) },
  { what: 'an ordinary error', unavailable: false, error: new Error('boom') },
  { what: 'a TypeError', unavailable: false, error: new TypeError("Cannot read properties of undefined (reading 'x')") },
  { what: 'WorkflowExecutionAlreadyStarted', unavailable: false, error: new WorkflowExecutionAlreadyStartedError('Workflow execution already started', 'llm-a', 'llmRequestWorkflow') },
  { what: 'WorkflowNotFound', unavailable: false, error: new WorkflowNotFoundError('not found', 'llm-a', undefined) },
  { what: 'grpc NOT_FOUND', unavailable: false, error: new ServiceError('Failed to describe workflow', { cause: grpcError(5, 'workflow not found') }) },
  { what: 'grpc INVALID_ARGUMENT', unavailable: false, error: new ServiceError('Failed to start Workflow', { cause: grpcError(3, 'bad search attribute') }) },
  { what: 'grpc RESOURCE_EXHAUSTED (rate limit, a reachable server)', unavailable: false, error: grpcError(8, 'namespace rate limit exceeded') },
  { what: 'a numeric code 14 without gRPC metadata', unavailable: false, error: Object.assign(new Error('something else'), { code: 14 }) },
  {
    what: "a workflow's failure whose activity hit ECONNREFUSED (the answer came from Temporal)",
    unavailable: false,
    error: new WorkflowFailedError(
      'Workflow execution failed',
      ApplicationFailure.create({ type: 'ProviderUnavailable', message: 'connect ECONNREFUSED', cause: Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }) }),
      RetryState.NON_RETRYABLE_FAILURE,
    ),
  },
  { what: 'an ApplicationFailure', unavailable: false, error: ApplicationFailure.create({ type: 'InvalidRequest', message: 'bad' }) },
  { what: 'an HttpError', unavailable: false, error: new HttpError(500, 'server_error', 'x') },
  { what: 'not an Error: a plain object with gRPC fields', unavailable: false, error: { code: UNAVAILABLE, details: 'x', metadata: {} } },
  { what: 'not an Error: undefined', unavailable: false, error: undefined },
];

for (const row of rows) {
  test(`${row.what} ${row.unavailable ? 'counts' : 'does not count'} as Temporal unavailable`, () => {
    assert.equal(isTemporalUnavailable(row.error), row.unavailable);
  });
}

/** A client whose `withDeadline` records the deadline and runs the call. */
function fakeClient(cancel: (workflowId: string) => Promise<void> = async () => undefined) {
  const deadlines: number[] = [];
  const client = {
    withDeadline<T>(deadline: number | Date, fn: () => Promise<T>): Promise<T> {
      deadlines.push(Number(deadline));
      return fn();
    },
    workflow: { getHandle: (workflowId: string) => ({ cancel: () => cancel(workflowId) }) },
  };
  return { client: client as unknown as Client, deadlines };
}

/** Asserts the 503 for Temporal: its type, code and Retry-After. */
function assertTemporal503(error: unknown): true {
  assert.ok(error instanceof HttpError, String(error));
  assert.equal(error.status, 503);
  assert.equal(error.type, 'service_unavailable');
  assert.equal(error.options.code, 'temporal_unavailable');
  assert.equal(error.options.retryAfterSeconds, TEMPORAL_RETRY_AFTER_SECONDS);
  return true;
}

test('a bounded call answers what the call answers, under a gRPC deadline of at most 10 s', async () => {
  const { client, deadlines } = fakeClient();
  const before = Date.now();
  assert.equal(await boundedTemporalCall(client, async () => 'started', { boundMs: 1_000 }), 'started');
  assert.equal(deadlines.length, 1);
  assert.ok(deadlines[0]! >= before && deadlines[0]! <= Date.now() + 10_000, `deadline ${deadlines[0]}`);
});

test('past the bound, a frontend that still accepts connections is busy, not down: the call is waited for, no 503', async () => {
  const { client } = fakeClient();
  let answer: (value: string) => void = () => undefined;
  const slow = new Promise<string>((resolve) => (answer = resolve));
  // The start is answered only once the API probed the frontend: the bound has passed by then.
  const frontend = createServer((socket) => {
    socket.destroy();
    answer('started late');
  });
  await new Promise<void>((resolve) => frontend.listen(0, '127.0.0.1', resolve));
  try {
    rememberTemporalAddress(client, `127.0.0.1:${(frontend.address() as AddressInfo).port}`);
    assert.equal(await boundedTemporalCall(client, () => slow, { boundMs: 10 }), 'started late');
  } finally {
    frontend.close();
  }
});

test('past the bound, a frontend that refuses connections is down: a 503', async () => {
  const { client } = fakeClient();
  const closed = createServer();
  await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
  const port = (closed.address() as AddressInfo).port;
  await new Promise((resolve) => closed.close(resolve));
  rememberTemporalAddress(client, `127.0.0.1:${port}`);
  await assert.rejects(boundedTemporalCall(client, () => new Promise<never>(() => undefined), { boundMs: 10 }), assertTemporal503);
});

test('a call that never settles becomes a 503 once the bound passes, and is handed on as late', async () => {
  const { client } = fakeClient();
  const late: Promise<unknown>[] = [];
  const never = new Promise<never>(() => undefined);
  await assert.rejects(boundedTemporalCall(client, () => never, { boundMs: 10, onLate: (pending) => late.push(pending) }), assertTemporal503);
  assert.equal(late.length, 1);
});

test('UNAVAILABLE becomes a 503 at once; nothing can have started, so nothing is handed on as late', async () => {
  const { client } = fakeClient();
  const late: Promise<unknown>[] = [];
  const call = () => Promise.reject(new ServiceError('Failed to start Workflow', { cause: coreError(UNAVAILABLE, 'tcp connect error') }));
  await assert.rejects(boundedTemporalCall(client, call, { boundMs: 60_000, onLate: (pending) => late.push(pending) }), assertTemporal503);
  assert.equal(late.length, 0);
});

test('DEADLINE_EXCEEDED becomes a 503 and is handed on as late: the server may have taken the start', async () => {
  const { client } = fakeClient();
  const late: Promise<unknown>[] = [];
  const call = () => Promise.reject(new ServiceError('Failed to start Workflow', { cause: grpcError(DEADLINE_EXCEEDED, 'deadline') }));
  await assert.rejects(boundedTemporalCall(client, call, { boundMs: 60_000, onLate: (pending) => late.push(pending) }), assertTemporal503);
  assert.equal(late.length, 1);
});

test('any other error passes unchanged', async () => {
  const { client } = fakeClient();
  const already = new WorkflowExecutionAlreadyStartedError('Workflow execution already started', 'llm-a', 'llmRequestWorkflow');
  await assert.rejects(boundedTemporalCall(client, () => Promise.reject(already), { boundMs: 60_000 }), (error) => error === already);
  const plain = new Error('boom');
  await assert.rejects(boundedTemporalCall(client, () => Promise.reject(plain), { boundMs: 60_000 }), (error) => error === plain);
});

/** Lets the late start's handlers and the cancel they make run. */
async function settle(): Promise<void> {
  for (let turn = 0; turn < 5; turn++) await nextTurn();
}

const lateStartRows: { what: string; outcome: () => Promise<unknown>; cancelled: boolean; cancelAnswers?: () => Promise<void> }[] = [
  { what: 'a start that succeeded after its 503', outcome: () => Promise.resolve({ workflowId: 'llm-a' }), cancelled: true },
  {
    what: 'a start Core resent after the server had taken it (already started)',
    outcome: () => Promise.reject(new WorkflowExecutionAlreadyStartedError('Workflow execution already started', 'llm-a', 'llmRequestWorkflow')),
    cancelled: true,
  },
  { what: 'a start that never got through (UNAVAILABLE)', outcome: () => Promise.reject(coreError(UNAVAILABLE, 'tcp connect error')), cancelled: false },
  { what: 'a start refused for another reason', outcome: () => Promise.reject(new Error('bad request')), cancelled: false },
  {
    what: 'a start that timed out on the wire (probed: the cancel finds no such workflow)',
    outcome: () => Promise.reject(grpcError(DEADLINE_EXCEEDED, 'deadline')),
    cancelled: true,
    cancelAnswers: () => Promise.reject(new WorkflowNotFoundError('not found', 'llm-a', undefined)),
  },
];

for (const row of lateStartRows) {
  test(`a late outcome: ${row.what} ${row.cancelled ? 'is sent a cancel' : 'is left alone'}`, async () => {
    const cancels: string[] = [];
    const { client } = fakeClient(async (workflowId) => {
      cancels.push(workflowId);
      await row.cancelAnswers?.();
    });
    const lines: Record<string, unknown>[] = [];
    cancelLateStart(client, 'llm-a', row.outcome(), (line) => lines.push(line));
    await settle();
    assert.deepEqual(cancels, row.cancelled ? ['llm-a'] : []);
    // One line when the watch begins and exactly one when it ends: cancelled (a workflow was there), or never taken.
    const expected = row.cancelled && !row.cancelAnswers ? 'workflow started after its caller was answered 503; cancelled' : 'start answered 503 never reached Temporal';
    assert.deepEqual(
      lines.map((line) => line.msg),
      ['start answered 503 may still reach Temporal; watching it', expected],
    );
  });
}

test('a late start whose cancel fails is logged as an error naming the workflow', async () => {
  const { client } = fakeClient(() => Promise.reject(new Error('cancel refused')));
  const lines: Record<string, unknown>[] = [];
  cancelLateStart(client, 'llm-a', Promise.resolve(), (line) => lines.push(line));
  await settle();
  assert.equal(lines.length, 2);
  assert.equal(lines[1]?.level, 'error');
  assert.equal(lines[1]?.workflowId, 'llm-a');
});

test('the error middleware answers the 503 with Retry-After, in the OpenAI shape and in the Anthropic shape on /v1/messages', async () => {
  const app = express();
  app.post(['/v1/chat/completions', '/v1/messages'], () => {
    throw temporalUnavailableError('the gateway cannot reach Temporal and did not start the request');
  });
  app.use(errorMiddleware(() => undefined));
  const server = await listen(app, '127.0.0.1', 0);
  try {
    const openAi = await fetch(`${server.url}/v1/chat/completions`, { method: 'POST' });
    assert.equal(openAi.status, 503);
    assert.equal(openAi.headers.get('retry-after'), String(TEMPORAL_RETRY_AFTER_SECONDS));
    const openAiBody = (await openAi.json()) as { error: { type: string; code: string; message: string } };
    assert.equal(openAiBody.error.type, 'service_unavailable');
    assert.equal(openAiBody.error.code, 'temporal_unavailable');
    assert.match(openAiBody.error.message, /did not start the request/);

    const anthropic = await fetch(`${server.url}/v1/messages`, { method: 'POST' });
    assert.equal(anthropic.status, 503);
    assert.equal(anthropic.headers.get('retry-after'), String(TEMPORAL_RETRY_AFTER_SECONDS));
    const anthropicBody = (await anthropic.json()) as { type: string; error: { type: string; message: string } };
    assert.equal(anthropicBody.type, 'error');
    assert.equal(anthropicBody.error.type, 'overloaded_error');
    assert.match(anthropicBody.error.message, /Temporal/);
  } finally {
    await server.close();
  }
});
