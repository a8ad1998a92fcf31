import type { MockApiKeys } from './api-keys';
import type { Fault } from './fault-schema';

/**
 * A typed client of the mock's `/_control` API, for tests and benchmarks
 * that talk to a mock in another process (or want to go through HTTP).
 *
 * @example
 * const control = new MockControlClient(mock.url);
 * await control.setFault('gpt-4o-mini', { status: 503, times: 2 });
 */
export class MockControlClient {
  /** @param baseUrl the mock's URL, e.g. `http://127.0.0.1:4010` (no `/v1`). */
  constructor(private readonly baseUrl: string) {}

  async setFault(model: string, fault: Fault): Promise<void> {
    await this.send('PUT', `/_control/faults/${encodeURIComponent(model)}`, fault);
  }

  /** @returns whether the model had a fault. */
  async clearFault(model: string): Promise<boolean> {
    const body = await this.send('DELETE', `/_control/faults/${encodeURIComponent(model)}`);
    return typeof body === 'object' && body !== null && 'cleared' in body && body.cleared === true;
  }

  async clearFaults(): Promise<void> {
    await this.send('DELETE', '/_control/faults');
  }

  async listFaults(): Promise<Record<string, Fault>> {
    return (await this.send('GET', '/_control/faults')) as Record<string, Fault>;
  }

  /** Calls per model since the last reset. */
  async calls(): Promise<Record<string, number>> {
    return (await this.send('GET', '/_control/calls')) as Record<string, number>;
  }

  async callCount(model: string): Promise<number> {
    return (await this.calls())[model] ?? 0;
  }

  /** What the mock billed since the last reset: each delivered answer's usage, and totals per model. */
  async billing(): Promise<{ entries: { model: string; inputTokens: number; outputTokens: number }[]; totals: Record<string, { answers: number; inputTokens: number; outputTokens: number }> }> {
    return (await this.send('GET', '/_control/billing')) as Awaited<ReturnType<MockControlClient['billing']>>;
  }

  async resetCalls(): Promise<void> {
    await this.send('DELETE', '/_control/calls');
  }

  /** The request bodies `model` received since the last reset, oldest first (the last 50). */
  async receivedRequests(model: string): Promise<unknown[]> {
    const body = (await this.send('GET', `/_control/requests/${encodeURIComponent(model)}`)) as { requests: unknown[] };
    return body.requests;
  }

  /** Streams parked by a `holdStreamAfterChunks` fault right now. */
  async heldStreams(): Promise<number> {
    const body = (await this.send('GET', '/_control/held')) as { held: number };
    return body.held;
  }

  /** Lets parked streams go on. @returns how many were parked. */
  async releaseStreams(): Promise<number> {
    const body = (await this.send('POST', '/_control/release')) as { released: number };
    return body.released;
  }

  /** Sets the keys each dialect accepts; a dialect left out accepts any key. */
  async setApiKeys(keys: MockApiKeys): Promise<void> {
    await this.send('PUT', '/_control/api-keys', keys);
  }

  /** Clears faults, counts and seen models (the API keys stay). */
  async reset(): Promise<void> {
    await this.send('POST', '/_control/reset');
  }

  private async send(method: string, path: string, body?: unknown): Promise<unknown> {
    const response = await fetch(this.baseUrl + path, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`mock control ${method} ${path} failed with ${response.status}: ${text}`);
    return JSON.parse(text) as unknown;
  }
}
