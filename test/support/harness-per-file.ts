import { after, afterEach, before } from 'node:test';
import OpenAI from 'openai';
import { startHarness, TENANT_KEY, type Harness } from './gateway-harness';

export interface StartedHarness {
  harness: Harness;
  /** The official client as tenant alpha, without retries (the gateway is the only retry layer). */
  openai: OpenAI;
}

/**
 * One harness for the whole test file: started before its first test,
 * stopped after its last, and faults and call counts cleared after each test
 * so the tests stay independent of their order.
 */
export function harnessPerFile(onStarted: (started: StartedHarness) => void, options?: Parameters<typeof startHarness>[0]): void {
  let harness: Harness | undefined;
  before(async () => {
    harness = await startHarness(options);
    onStarted({ harness, openai: new OpenAI({ baseURL: `${harness.apiUrl}/v1`, apiKey: TENANT_KEY, maxRetries: 0, timeout: 60_000 }) });
  });
  after(async () => {
    await harness?.stop();
  });
  afterEach(async () => {
    await harness?.clearFaults();
    await harness?.resetCalls();
  });
}
