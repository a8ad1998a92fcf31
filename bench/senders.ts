// The two kinds of benchmark request: through the gateway and directly to the
// mock, with the same OpenAI-shaped body, each checked before it counts.
import { BENCH_MODEL, BENCH_TENANT_KEY, MOCK_KEY, type BenchEnvironment } from './environment';
import type { RequestOutcome } from './load';

const REQUEST_BODY = JSON.stringify({
  model: BENCH_MODEL,
  messages: [{ role: 'user', content: 'Benchmark request: answer in one short sentence.' }],
});

/** Reads the body and checks it is a chat completion; a failure reason otherwise. */
export async function checkCompletion(response: Response): Promise<RequestOutcome> {
  const text = await response.text();
  if (response.status !== 200) {
    let code = '';
    try {
      const error = (JSON.parse(text) as { error?: { code?: string; type?: string } }).error;
      code = ` ${error?.code ?? error?.type ?? ''}`;
    } catch {
      // not JSON
    }
    return `HTTP ${response.status}${code}`.trim();
  }
  try {
    const body = JSON.parse(text) as { choices?: { message?: { content?: unknown } }[] };
    if (typeof body.choices?.[0]?.message?.content !== 'string') return 'no choices[0].message.content';
  } catch {
    return 'body is not JSON';
  }
  return undefined;
}

export function gatewaySender(env: BenchEnvironment, counters: { otherModel: number }) {
  return async (signal: AbortSignal): Promise<RequestOutcome> => {
    const response = await fetch(`${env.apiUrl}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${BENCH_TENANT_KEY}`, 'content-type': 'application/json' },
      body: REQUEST_BODY,
      signal,
    });
    const failure = await checkCompletion(response);
    if (failure) return failure;
    const model = response.headers.get('x-gateway-model');
    if (!model) return 'missing x-gateway-model header';
    if (model !== BENCH_MODEL) counters.otherModel += 1;
    return undefined;
  };
}

export function directSender(env: BenchEnvironment) {
  return async (signal: AbortSignal): Promise<RequestOutcome> => {
    const response = await fetch(`${env.mockUrl}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${MOCK_KEY}`, 'content-type': 'application/json' },
      body: REQUEST_BODY,
      signal,
    });
    return checkCompletion(response);
  };
}

/**
 * Posts a chat completion to the gateway, sent again after its Retry-After
 * when the API turned it away (a 5xx before any model was tried: Temporal too
 * busy to start it within the API's bound), at most `resends` times, as the
 * official clients do. Answers the last response's status and body, and how
 * many times it was turned away.
 */
export async function postChatWithResends(
  apiUrl: string,
  body: string,
  signal: AbortSignal,
  resends: number,
): Promise<{ status: number; text: string; turnedAway: number }> {
  for (let turnedAway = 0; ; turnedAway += 1) {
    const response = await fetch(`${apiUrl}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${BENCH_TENANT_KEY}`, 'content-type': 'application/json' },
      body,
      signal,
    });
    const text = await response.text();
    if (response.status < 500 || turnedAway >= resends) return { status: response.status, text, turnedAway };
    const seconds = Number(response.headers.get('retry-after'));
    await new Promise((wake) => setTimeout(wake, 1_000 * (Number.isFinite(seconds) && seconds > 0 ? seconds : 1)));
  }
}
