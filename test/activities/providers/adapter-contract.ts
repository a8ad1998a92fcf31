import assert from 'node:assert/strict';
import type { IncomingHttpHeaders } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { GatewayError, type FailureType } from '../../../common/failure-types';
import { CanonicalRequestSchema, type CanonicalRequest, type CanonicalRequestInput } from '../../../common/request-schema';
import type { ModelOutput, Usage } from '../../../common/response-schema';
import type { AdapterSettings, ModelAdapter } from '../../../activities/providers/model-adapter';
import { runStreamContract, type StreamContractSpec } from './adapter-stream-contract';
import { closedPortOrigin, startFixtureServer, type FixtureServer } from './fixture-server';

/**
 * The shared adapter contract: every provider adapter runs these cases
 * against a real HTTP fixture server that speaks its vendor's wire format.
 * The contract fixes the canonical request and the canonical result; each
 * vendor supplies its wire replies and asserts its outgoing request shape.
 */

/** Canonical things a vendor fixture must encode in its own wire format. */
export interface WireReplies {
  text(reply: { text: string; finish: 'stop' | 'length'; usage: Usage }): unknown;
  toolCall(reply: { id: string; name: string; input: Record<string, unknown>; usage: Usage }): unknown;
  refusal(reply: { explanation: string; usage: Usage }): unknown;
}

/** Error answers every vendor must map; the body is the vendor's, the type is the contract's. */
export type ErrorKind = 'invalid' | 'contextTooLong' | 'auth' | 'notFound' | 'rateLimit' | 'server' | 'overloaded';

type RequestAssertion = (body: Record<string, unknown>, output: ModelOutput) => void;

export interface AdapterContractSpec extends StreamContractSpec {
  name: string;
  createAdapter(settings: AdapterSettings): ModelAdapter;
  apiKey: string | undefined;
  /** The adapter's base URL for a server at `origin` (e.g. with `/v1`). */
  baseUrlFor(origin: string): string;
  /** Path the SDK posts to on the fixture server. */
  requestPath: string;
  /** Auth and version headers the vendor expects. */
  assertHeaders(headers: IncomingHttpHeaders): void;
  replies: WireReplies;
  errorBody(kind: ErrorKind, apiKey: string | undefined): unknown;
  /** The vendor's raw finish reasons for the canonical ones. */
  rawFinishReasons: { stop: string; length: string; toolCalls: string; refusal: string };
  /** Vendor assertions on the outgoing request of each case. */
  expectRequest: {
    plainText: RequestAssertion;
    systemPrompt: RequestAssertion;
    multiTurn: RequestAssertion;
    toolCall: RequestAssertion;
    toolResult: RequestAssertion;
    lengthStop: RequestAssertion;
    sampling: RequestAssertion;
    jsonSchema: RequestAssertion;
  };
}

const UPSTREAM_MODEL = 'contract-model';
const PROVIDER_ID = 'contract-provider';
const REQUEST_TIMEOUT_MS = 5_000;
const HANG_TIMEOUT_MS = 300;
const USAGE: Usage = { inputTokens: 21, outputTokens: 7 };

const WEATHER_TOOL = {
  name: 'get_weather',
  description: 'Current weather for a city',
  parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
};

function canonical(input: Omit<CanonicalRequestInput, 'requestId' | 'tenantId' | 'model'>): CanonicalRequest {
  return CanonicalRequestSchema.parse({ requestId: 'req-1', tenantId: 'tenant-1', model: 'contract', ...input });
}

const ERROR_CASES: {
  kind: ErrorKind;
  status: number;
  type: FailureType;
  headers?: Record<string, string>;
  retryAfterMs?: number;
}[] = [
  { kind: 'invalid', status: 400, type: 'InvalidRequest' },
  { kind: 'contextTooLong', status: 400, type: 'ContextTooLong' },
  { kind: 'auth', status: 401, type: 'AccessDenied' },
  { kind: 'notFound', status: 404, type: 'AccessDenied' },
  { kind: 'rateLimit', status: 429, type: 'RateLimited', headers: { 'retry-after': '7' }, retryAfterMs: 7_000 },
  { kind: 'server', status: 500, type: 'ProviderUnavailable' },
  { kind: 'overloaded', status: 529, type: 'ProviderUnavailable' },
];

/** Registers the contract's tests for one adapter. */
export function runAdapterContract(spec: AdapterContractSpec): void {
  describe(`${spec.name} adapter contract`, () => {
    let server: FixtureServer;
    let adapter: ModelAdapter;

    const settingsFor = (origin: string, requestTimeoutMs = REQUEST_TIMEOUT_MS): AdapterSettings => ({
      providerId: PROVIDER_ID,
      baseUrl: spec.baseUrlFor(origin),
      apiKey: spec.apiKey,
      requestTimeoutMs,
    });

    before(async () => {
      server = await startFixtureServer();
      adapter = spec.createAdapter(settingsFor(server.origin));
    });
    after(() => server.close());

    /** Sends one request with `reply` armed; returns the output and the one request the server saw. */
    async function call(request: CanonicalRequest, replyBody: unknown) {
      server.reply({ kind: 'json', status: 200, body: replyBody });
      const output = await adapter.complete(request, { upstreamModel: UPSTREAM_MODEL });
      assert.equal(server.requests.length, 1);
      const [sent] = server.requests;
      assert.ok(sent);
      assert.equal(sent.method, 'POST');
      assert.equal(sent.path, spec.requestPath);
      spec.assertHeaders(sent.headers);
      const body = sent.body as Record<string, unknown>;
      assert.equal(body.model, UPSTREAM_MODEL);
      return { output, body };
    }

    async function expectFailure(promise: Promise<unknown>, type: FailureType): Promise<GatewayError> {
      let caught: unknown;
      await assert.rejects(promise, (error: unknown) => {
        caught = error;
        return true;
      });
      assert.ok(caught instanceof GatewayError, `expected a GatewayError, got ${String(caught)}`);
      assert.equal(caught.type, type, caught.message);
      assert.equal(caught.provider, PROVIDER_ID);
      assert.ok(caught.message.startsWith(`${PROVIDER_ID}: `), caught.message);
      return caught;
    }

    test('returns the text, stop reason and usage of a plain answer', async () => {
      const { output, body } = await call(
        canonical({ messages: [{ role: 'user', content: 'Say hello.' }] }),
        spec.replies.text({ text: 'Hello!', finish: 'stop', usage: USAGE }),
      );
      assert.deepEqual(output, {
        text: 'Hello!',
        toolCalls: [],
        finishReason: { unified: 'stop', raw: spec.rawFinishReasons.stop },
        refusal: null,
        usage: USAGE,
        warnings: output.warnings,
        // The model the provider says answered (the fixtures' replies name it).
        responseModel: 'fixture-model',
      });
      spec.expectRequest.plainText(body, output);
    });

    test('sends the system prompt where the vendor expects it', async () => {
      const { output, body } = await call(
        canonical({
          messages: [
            { role: 'system', content: 'You are terse.' },
            { role: 'user', content: 'Say hello.' },
          ],
        }),
        spec.replies.text({ text: 'Hi.', finish: 'stop', usage: USAGE }),
      );
      assert.equal(output.text, 'Hi.');
      spec.expectRequest.systemPrompt(body, output);
    });

    test('sends a multi-turn conversation in order', async () => {
      const { output, body } = await call(
        canonical({
          messages: [
            { role: 'user', content: 'What is 2+2?' },
            { role: 'assistant', content: '4.' },
            { role: 'user', content: 'And times 3?' },
          ],
        }),
        spec.replies.text({ text: '12.', finish: 'stop', usage: USAGE }),
      );
      assert.equal(output.text, '12.');
      spec.expectRequest.multiTurn(body, output);
    });

    test('sends tools and returns the tool call the model made', async () => {
      const { output, body } = await call(
        canonical({
          messages: [{ role: 'user', content: 'Weather in Paris?' }],
          tools: [WEATHER_TOOL],
          toolChoice: 'auto',
        }),
        spec.replies.toolCall({ id: 'call_1', name: 'get_weather', input: { city: 'Paris' }, usage: USAGE }),
      );
      assert.equal(output.toolCalls.length, 1);
      const [toolCall] = output.toolCalls;
      assert.equal(toolCall?.id, 'call_1');
      assert.equal(toolCall?.name, 'get_weather');
      assert.deepEqual(JSON.parse(toolCall?.arguments ?? ''), { city: 'Paris' });
      assert.deepEqual(output.finishReason, { unified: 'tool_calls', raw: spec.rawFinishReasons.toolCalls });
      spec.expectRequest.toolCall(body, output);
    });

    test('sends the assistant tool call and its result back to the model', async () => {
      const { output, body } = await call(
        canonical({
          messages: [
            { role: 'user', content: 'Weather in Paris?' },
            {
              role: 'assistant',
              content: null,
              toolCalls: [{ id: 'call_1', name: 'get_weather', arguments: '{"city":"Paris"}' }],
            },
            { role: 'tool', toolCallId: 'call_1', content: '{"temperature":18}' },
          ],
          tools: [WEATHER_TOOL],
        }),
        spec.replies.text({ text: 'It is 18°C in Paris.', finish: 'stop', usage: USAGE }),
      );
      assert.equal(output.text, 'It is 18°C in Paris.');
      spec.expectRequest.toolResult(body, output);
    });

    test('reports a length stop when the token limit cut the answer', async () => {
      const { output, body } = await call(
        canonical({ messages: [{ role: 'user', content: 'Tell a long story.' }], sampling: { maxTokens: 5 } }),
        spec.replies.text({ text: 'Once upon a time', finish: 'length', usage: { inputTokens: 12, outputTokens: 5 } }),
      );
      assert.equal(output.text, 'Once upon a time');
      assert.deepEqual(output.finishReason, { unified: 'length', raw: spec.rawFinishReasons.length });
      spec.expectRequest.lengthStop(body, output);
    });

    test('returns a refusal with the refusal text and a content_filter finish', async () => {
      const { output } = await call(
        canonical({ messages: [{ role: 'user', content: 'Something harmful.' }] }),
        spec.replies.refusal({ explanation: "I can't help with that.", usage: USAGE }),
      );
      assert.equal(output.refusal, "I can't help with that.");
      assert.deepEqual(output.finishReason, { unified: 'content_filter', raw: spec.rawFinishReasons.refusal });
      assert.deepEqual(output.toolCalls, []);
    });

    test('maps the provider usage onto input and output tokens', async () => {
      const usage = { inputTokens: 1_234, outputTokens: 56 };
      const { output } = await call(
        canonical({ messages: [{ role: 'user', content: 'Count.' }] }),
        spec.replies.text({ text: 'Done.', finish: 'stop', usage }),
      );
      assert.deepEqual(output.usage, usage);
    });

    test('passes sampling settings on or warns about the ones it cannot send', async () => {
      const { output, body } = await call(
        canonical({
          messages: [{ role: 'user', content: 'Say hello.' }],
          sampling: { temperature: 0.2, topP: 0.9, stop: ['END'], seed: 7, maxTokens: 100 },
          user: 'end-user-42',
        }),
        spec.replies.text({ text: 'Hello!', finish: 'stop', usage: USAGE }),
      );
      spec.expectRequest.sampling(body, output);
    });

    test('asks for JSON schema output and returns the JSON text', async () => {
      const { output, body } = await call(
        canonical({
          messages: [{ role: 'user', content: 'What is 2+2? Answer in JSON.' }],
          output: {
            type: 'json_schema',
            name: 'answer',
            schema: { type: 'object', properties: { answer: { type: 'number' } }, required: ['answer'] },
            strict: true,
          },
        }),
        spec.replies.text({ text: '{"answer":4}', finish: 'stop', usage: USAGE }),
      );
      assert.deepEqual(JSON.parse(output.text ?? ''), { answer: 4 });
      spec.expectRequest.jsonSchema(body, output);
    });

    for (const errorCase of ERROR_CASES) {
      test(`maps a ${errorCase.status} ${errorCase.kind} answer to ${errorCase.type}`, async () => {
        server.reply({
          kind: 'json',
          status: errorCase.status,
          body: spec.errorBody(errorCase.kind, spec.apiKey),
          ...(errorCase.headers ? { headers: errorCase.headers } : {}),
        });
        const error = await expectFailure(
          adapter.complete(canonical({ messages: [{ role: 'user', content: 'Hi' }] }), { upstreamModel: UPSTREAM_MODEL }),
          errorCase.type,
        );
        assert.equal(error.status, errorCase.status);
        assert.equal(error.retryAfterMs, errorCase.retryAfterMs);
        // maxRetries: 0 — Temporal is the only retry layer.
        assert.equal(server.requests.length, 1);
        if (spec.apiKey) assert.ok(!error.message.includes(spec.apiKey), `key leaked: ${error.message}`);
      });
    }

    test('maps a 200 answer with a body that is not JSON to ProviderUnavailable', async () => {
      server.reply({ kind: 'raw', status: 200, body: '{"choices": [', contentType: 'application/json' });
      const error = await expectFailure(
        adapter.complete(canonical({ messages: [{ role: 'user', content: 'Hi' }] }), { upstreamModel: UPSTREAM_MODEL }),
        'ProviderUnavailable',
      );
      assert.equal(error.retryable, true);
    });

    test('maps a 200 answer of the wrong shape to ProviderUnavailable', async () => {
      server.reply({ kind: 'json', status: 200, body: { unexpected: true } });
      await expectFailure(
        adapter.complete(canonical({ messages: [{ role: 'user', content: 'Hi' }] }), { upstreamModel: UPSTREAM_MODEL }),
        'ProviderUnavailable',
      );
    });

    test('maps a connection cut in the middle of the body to ProviderUnavailable', async () => {
      server.reply({ kind: 'cut' });
      await expectFailure(
        adapter.complete(canonical({ messages: [{ role: 'user', content: 'Hi' }] }), { upstreamModel: UPSTREAM_MODEL }),
        'ProviderUnavailable',
      );
    });

    test('maps a refused connection to ProviderUnavailable', async () => {
      const closed = spec.createAdapter(settingsFor(await closedPortOrigin()));
      const error = await expectFailure(
        closed.complete(canonical({ messages: [{ role: 'user', content: 'Hi' }] }), { upstreamModel: UPSTREAM_MODEL }),
        'ProviderUnavailable',
      );
      assert.equal(error.retryable, true);
    });

    test('maps a server that never answers to Timeout', async () => {
      server.reply({ kind: 'hang' });
      const impatient = spec.createAdapter(settingsFor(server.origin, HANG_TIMEOUT_MS));
      const error = await expectFailure(
        impatient.complete(canonical({ messages: [{ role: 'user', content: 'Hi' }] }), { upstreamModel: UPSTREAM_MODEL }),
        'Timeout',
      );
      assert.equal(error.retryable, true);
    });

    runStreamContract(spec, {
      server: () => server,
      adapter: () => adapter,
      impatientAdapter: () => spec.createAdapter(settingsFor(server.origin, HANG_TIMEOUT_MS)),
      upstreamModel: UPSTREAM_MODEL,
      canonical: (content) => canonical({ messages: [{ role: 'user', content }] }),
      complete: async (request, replyBody) => (await call(request, replyBody)).output,
      replies: spec.replies,
      tools: [WEATHER_TOOL],
      errorBody: (kind) => spec.errorBody(kind, spec.apiKey),
      expectFailure,
    });

    test('stops the call when the caller aborts it', async () => {
      server.reply({ kind: 'hang' });
      const controller = new AbortController();
      const arrived = server.nextRequest();
      const pending = adapter.complete(canonical({ messages: [{ role: 'user', content: 'Hi' }] }), {
        upstreamModel: UPSTREAM_MODEL,
        signal: controller.signal,
      });
      await arrived;
      controller.abort();
      await expectFailure(pending, 'Timeout');
    });
  });
}
