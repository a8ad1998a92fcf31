import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { GatewayError, FailureType } from '../../../common/failure-types';
import type { CanonicalRequest } from '../../../common/request-schema';
import type { ModelOutput, Usage } from '../../../common/response-schema';
import type { ModelAdapter, StreamDelta } from '../../../activities/providers/model-adapter';
import type { FixtureServer, SseEvent } from './fixture-server';

/**
 * The streaming half of the shared adapter contract: the same canonical
 * answers as the non-streaming cases, sent as the vendor's documented
 * server-sent events. A streamed answer must resolve with exactly what
 * `complete()` returns for the same answer.
 */

/** The contract's canonical answers, as the vendor's stream events. */
export interface WireStreamReplies {
  /** The answer's text arrives in `pieces`, in order, one piece per delta event. */
  text(reply: { pieces: string[]; finish: 'stop' | 'length'; usage: Usage }): SseEvent[];
  /** The same answer as `WireReplies.toolCall`, its arguments' JSON in `argumentPieces`. */
  toolCall(reply: { id: string; name: string; argumentPieces: string[]; usage: Usage }): SseEvent[];
  /** The vendor's error event inside a stream that already answered 200. */
  errorEvent(kind: 'rateLimit' | 'server'): SseEvent;
}

/** What the streaming cases need from the vendor's contract spec. */
export interface StreamContractSpec {
  streamReplies: WireStreamReplies;
  /** Vendor assertions on an outgoing streaming request (streaming on, usage asked for). */
  expectStreamRequest(body: Record<string, unknown>): void;
}

/** The contract's running fixture and helpers, shared with the non-streaming cases. */
export interface StreamContractHarness {
  server(): FixtureServer;
  adapter(): ModelAdapter;
  /** A fresh adapter on the same server with a short per-call timeout. */
  impatientAdapter(): ModelAdapter;
  upstreamModel: string;
  canonical(messages: string): CanonicalRequest;
  /** The non-streaming answer for the same content, for comparison. */
  complete(request: CanonicalRequest, replyBody: unknown): Promise<ModelOutput>;
  replies: {
    text(reply: { text: string; finish: 'stop' | 'length'; usage: Usage }): unknown;
    toolCall(reply: { id: string; name: string; input: Record<string, unknown>; usage: Usage }): unknown;
  };
  tools: CanonicalRequest['tools'];
  /** The vendor's error body for a rate limit or a server error. */
  errorBody(kind: 'rateLimit' | 'server'): unknown;
  expectFailure(promise: Promise<unknown>, type: FailureType): Promise<GatewayError>;
}

const USAGE: Usage = { inputTokens: 21, outputTokens: 7 };
const STORY = ['Once', ' upon', ' a', ' time'];

/** Registers the streaming cases for one adapter; call inside the contract's describe. */
export function runStreamContract(spec: StreamContractSpec, harness: StreamContractHarness): void {
  describe('streaming', () => {
    /** Streams one request with `events` armed; returns the output, the deltas and the request body. */
    async function stream(request: CanonicalRequest, events: SseEvent[]) {
      const server = harness.server();
      server.reply({ kind: 'sse', events, end: 'complete' });
      const deltas: StreamDelta[] = [];
      const output = await harness.adapter().stream(request, {
        upstreamModel: harness.upstreamModel,
        onDelta: (delta) => deltas.push(delta),
      });
      assert.equal(server.requests.length, 1);
      const body = server.requests[0]?.body as Record<string, unknown>;
      assert.equal(body.model, harness.upstreamModel);
      spec.expectStreamRequest(body);
      return { output, deltas, body };
    }

    /** Starts a stream expected to fail; returns the failure and the deltas delivered before it. */
    async function failingStream(adapter: ModelAdapter, type: FailureType) {
      const deltas: StreamDelta[] = [];
      const error = await harness.expectFailure(
        adapter.stream(harness.canonical('Tell a story.'), {
          upstreamModel: harness.upstreamModel,
          onDelta: (delta) => deltas.push(delta),
        }),
        type,
      );
      return { error, deltas };
    }

    /** The story's events up to and including the one that carries its first piece. */
    function storyUpToFirstDelta(): SseEvent[] {
      const events = spec.streamReplies.text({ pieces: STORY, finish: 'stop', usage: USAGE });
      const firstDelta = events.findIndex((event) => event.data.includes(JSON.stringify(STORY[0])));
      assert.ok(firstDelta >= 0, 'the fixture carries the first piece as a JSON string');
      return events.slice(0, firstDelta + 1);
    }

    test('delivers text deltas in order and resolves with what complete() returns', async () => {
      const request = harness.canonical('Say hello.');
      const { output, deltas } = await stream(
        request,
        spec.streamReplies.text({ pieces: ['Hel', 'lo', '!'], finish: 'stop', usage: USAGE }),
      );
      assert.deepEqual(deltas, [
        { type: 'text', text: 'Hel' },
        { type: 'text', text: 'lo' },
        { type: 'text', text: '!' },
      ]);
      const completed = await harness.complete(request, harness.replies.text({ text: 'Hello!', finish: 'stop', usage: USAGE }));
      assert.deepEqual(output, completed);
      assert.equal(output.text, 'Hello!');
    });

    test('delivers tool call pieces and resolves with the assembled call', async () => {
      const request: CanonicalRequest = { ...harness.canonical('Weather in Paris?'), tools: harness.tools, toolChoice: 'auto' };
      const { output, deltas } = await stream(
        request,
        spec.streamReplies.toolCall({ id: 'call_1', name: 'get_weather', argumentPieces: ['{"ci', 'ty":"Par', 'is"}'], usage: USAGE }),
      );
      const callDeltas = deltas.filter((delta) => delta.type === 'tool_call');
      assert.ok(callDeltas.length >= 1);
      assert.ok(callDeltas.every((delta) => delta.index === 0));
      assert.equal(callDeltas[0]?.id, 'call_1');
      assert.equal(callDeltas[0]?.name, 'get_weather');
      assert.deepEqual(JSON.parse(callDeltas.map((delta) => delta.argumentsDelta).join('')), { city: 'Paris' });
      const completed = await harness.complete(
        request,
        harness.replies.toolCall({ id: 'call_1', name: 'get_weather', input: { city: 'Paris' }, usage: USAGE }),
      );
      assert.deepEqual(output, completed);
      assert.equal(output.finishReason.unified, 'tool_calls');
    });

    test('resolves with the usage the stream reported', async () => {
      const usage = { inputTokens: 1_234, outputTokens: 56 };
      const { output } = await stream(
        harness.canonical('Count.'),
        spec.streamReplies.text({ pieces: ['Done', '.'], finish: 'stop', usage }),
      );
      assert.deepEqual(output.usage, usage);
    });

    test('reports a length stop when the token limit cut the streamed answer', async () => {
      const request = harness.canonical('Tell a long story.');
      const usage = { inputTokens: 12, outputTokens: 5 };
      const { output } = await stream(request, spec.streamReplies.text({ pieces: STORY, finish: 'length', usage }));
      assert.equal(output.text, 'Once upon a time');
      assert.equal(output.finishReason.unified, 'length');
      const completed = await harness.complete(request, harness.replies.text({ text: 'Once upon a time', finish: 'length', usage }));
      assert.deepEqual(output, completed);
    });

    for (const { kind, status, type, headers, retryAfterMs } of [
      { kind: 'rateLimit', status: 429, type: 'RateLimited', headers: { 'retry-after': '7' }, retryAfterMs: 7_000 },
      { kind: 'server', status: 500, type: 'ProviderUnavailable', headers: {}, retryAfterMs: undefined },
    ] as const) {
      test(`maps a ${status} answer before the stream to ${type}, as complete() does`, async () => {
        harness.server().reply({ kind: 'json', status, headers, body: harness.errorBody(kind) });
        const { error, deltas } = await failingStream(harness.adapter(), type);
        assert.equal(error.status, status);
        assert.equal(error.retryAfterMs, retryAfterMs);
        assert.deepEqual(deltas, []);
        assert.equal(harness.server().requests.length, 1);
      });
    }

    for (const [kind, type] of [
      ['rateLimit', 'RateLimited'],
      ['server', 'ProviderUnavailable'],
    ] as const) {
      test(`maps a ${kind} error event inside the stream to ${type}, as the same error before the stream`, async () => {
        harness.server().reply({ kind: 'sse', events: [spec.streamReplies.errorEvent(kind)], end: 'complete' });
        const { error, deltas } = await failingStream(harness.adapter(), type);
        assert.equal(error.retryable, true);
        assert.equal(deltas.length, 0);
      });
    }

    test('throws ProviderUnavailable when the connection is cut after some deltas', async () => {
      harness.server().reply({ kind: 'sse', events: storyUpToFirstDelta(), end: 'cut' });
      const { deltas } = await failingStream(harness.adapter(), 'ProviderUnavailable');
      assert.deepEqual(deltas, [{ type: 'text', text: STORY[0] }]);
    });

    test('throws ProviderUnavailable when the stream ends cleanly before the answer is finished', async () => {
      harness.server().reply({ kind: 'sse', events: storyUpToFirstDelta(), end: 'complete' });
      const { deltas } = await failingStream(harness.adapter(), 'ProviderUnavailable');
      assert.equal(deltas.length, 1);
    });

    test('throws ProviderUnavailable on a chunk that is not JSON', async () => {
      const events = [...storyUpToFirstDelta(), { data: '{"broken' }];
      harness.server().reply({ kind: 'sse', events, end: 'complete' });
      await failingStream(harness.adapter(), 'ProviderUnavailable');
    });

    test('throws Timeout when the server stalls in the middle of the stream', async () => {
      harness.server().reply({ kind: 'sse', events: storyUpToFirstDelta(), end: 'stall' });
      const { error, deltas } = await failingStream(harness.impatientAdapter(), 'Timeout');
      assert.equal(error.retryable, true);
      assert.equal(deltas.length, 1);
    });

    test('throws Timeout when the server never starts the stream', async () => {
      harness.server().reply({ kind: 'hang' });
      await failingStream(harness.impatientAdapter(), 'Timeout');
    });
  });
}
