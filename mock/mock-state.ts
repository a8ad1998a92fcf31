import type { KeyedDialect, MockApiKeys } from './api-keys';
import type { Fault } from './fault-schema';
import { SYSTEM_CLOCK, type MockClock } from './mock-clock';

/** Request bodies remembered per model. */
const MAX_BODIES_PER_MODEL = 50;

/** The model name whose fault applies to every model without its own. */
export const ANY_MODEL = '*';

/** Models `GET /v1/models` lists even before any call named them. */
export const DEFAULT_MODELS: readonly string[] = ['mock-small', 'mock-large', 'gpt-4o-mini', 'claude-sonnet-4-5'];

/** A fault about to be applied, with the call it applies to. */
export interface TakenFault {
  fault: Fault;
  /** 1-based number of this call to the model, seeding deterministic jitter. */
  callNumber: number;
}

interface StoredFault {
  fault: Fault;
  /** Calls left before the fault clears itself; undefined means forever. */
  remaining: number | undefined;
}

/** When one call arrived and when its answer began (status line and body, or first stream event), on the mock's clock. */
export interface CallTiming {
  callNumber: number;
  receivedAt: number;
  /** Undefined while the call is unanswered, and for a call never answered (hang, cut, client gone). */
  answeredAt: number | undefined;
}

export interface BillingEntry {
  model: string;
  inputTokens: number;
  outputTokens: number;
}

/**
 * Everything the mock remembers between requests: injected faults, call
 * counts and the models it has seen. One instance per server, so tests that
 * start their own server never share counts.
 */
export class MockState {
  private readonly faults = new Map<string, StoredFault>();
  private readonly calls = new Map<string, number>();
  private readonly seenModels = new Set<string>();
  private readonly heldStreams = new Set<() => void>();
  private readonly bodies = new Map<string, unknown[]>();
  private readonly timings = new Map<string, CallTiming[]>();
  private readonly billing: BillingEntry[] = [];
  private apiKeys: MockApiKeys = {};

  /** @param clock what fault delays wait on and call timings read (real time unless a test drives it). */
  constructor(readonly clock: MockClock = SYSTEM_CLOCK) {}

  /**
   * Sets the keys each dialect accepts (a dialect left out accepts any key).
   * Configuration, not test state: `reset()` keeps them.
   */
  setApiKeys(keys: MockApiKeys): void {
    this.apiKeys = { ...keys };
  }

  /** Whether `key` opens `dialect`: it is one of the dialect's keys, or the dialect has none set. */
  acceptsKey(dialect: KeyedDialect, key: string): boolean {
    const accepted = this.apiKeys[dialect];
    return accepted === undefined || accepted.includes(key);
  }

  /** Sets (or replaces) the fault of `model`; `*` applies to every model. */
  setFault(model: string, fault: Fault): void {
    this.faults.set(model, { fault, remaining: fault.times });
  }

  /** @returns whether `model` had a fault. */
  clearFault(model: string): boolean {
    return this.faults.delete(model);
  }

  clearFaults(): void {
    this.faults.clear();
  }

  /** Current faults by model; `times` shows the calls still to be faulted. */
  listFaults(): Record<string, Fault> {
    const listed: Record<string, Fault> = {};
    for (const [model, stored] of this.faults) {
      listed[model] = stored.remaining === undefined ? stored.fault : { ...stored.fault, times: stored.remaining };
    }
    return listed;
  }

  /**
   * Counts a call that reached a model route: every such call counts, faulted
   * or rejected, since a real provider would have received it.
   *
   * @returns the 1-based number of this call to `model`.
   */
  recordCall(model: string, body?: unknown): number {
    if (body !== undefined) {
      const bodies = this.bodies.get(model) ?? [];
      bodies.push(body);
      if (bodies.length > MAX_BODIES_PER_MODEL) bodies.shift();
      this.bodies.set(model, bodies);
    }
    const callNumber = (this.calls.get(model) ?? 0) + 1;
    this.calls.set(model, callNumber);
    this.seenModels.add(model);
    const timings = this.timings.get(model) ?? [];
    timings.push({ callNumber, receivedAt: this.clock.now(), answeredAt: undefined });
    if (timings.length > MAX_BODIES_PER_MODEL) timings.shift();
    this.timings.set(model, timings);
    return callNumber;
  }

  /** Records that call `callNumber` of `model` starts its answer now (the first time only). */
  markAnswered(model: string, callNumber: number): void {
    const timing = this.timings.get(model)?.find((candidate) => candidate.callNumber === callNumber);
    if (timing && timing.answeredAt === undefined) timing.answeredAt = this.clock.now();
  }

  /** When each of `model`'s last 50 calls arrived and was answered, oldest first. */
  callTimings(model: string): CallTiming[] {
    return (this.timings.get(model) ?? []).map((timing) => ({ ...timing }));
  }

  /**
   * The fault to apply to call `callNumber` of `model`, if any. The model's
   * own fault wins over the `*` one; a fault with `times` is used up by it.
   */
  takeFault(model: string, callNumber: number): TakenFault | undefined {
    const key = this.faults.has(model) ? model : ANY_MODEL;
    const stored = this.faults.get(key);
    if (stored === undefined) return undefined;
    if (stored.remaining !== undefined) {
      stored.remaining -= 1;
      if (stored.remaining <= 0) this.faults.delete(key);
    }
    return { fault: stored.fault, callNumber };
  }

  /** The request bodies `model` received, oldest first (the last 50), so a test can check what a provider saw. */
  receivedBodies(model: string): unknown[] {
    return [...(this.bodies.get(model) ?? [])];
  }

  /** Calls per model since the last reset, faulted calls included. */
  callCounts(): Record<string, number> {
    return Object.fromEntries(this.calls);
  }

  callCount(model: string): number {
    return this.calls.get(model) ?? 0;
  }

  resetCalls(): void {
    this.calls.clear();
    this.bodies.clear();
    this.timings.clear();
    this.billing.length = 0;
  }

  /** A delivered answer, billed as a provider would: the usage it reported. */
  recordBilling(model: string, usage: { promptTokens: number; completionTokens: number }): void {
    this.billing.push({ model, inputTokens: usage.promptTokens, outputTokens: usage.completionTokens });
  }

  /** Every billed answer since the last reset, oldest first, with totals per model. */
  billingLog(): { entries: BillingEntry[]; totals: Record<string, { answers: number; inputTokens: number; outputTokens: number }> } {
    const totals: Record<string, { answers: number; inputTokens: number; outputTokens: number }> = {};
    for (const entry of this.billing) {
      const total = (totals[entry.model] ??= { answers: 0, inputTokens: 0, outputTokens: 0 });
      total.answers += 1;
      total.inputTokens += entry.inputTokens;
      total.outputTokens += entry.outputTokens;
    }
    return { entries: [...this.billing], totals };
  }

  /** The default models followed by every other model a request named. */
  knownModels(): string[] {
    return [...new Set([...DEFAULT_MODELS, ...this.seenModels])];
  }

  /**
   * Parks a stream (a `holdStreamAfterChunks` fault) until `releaseStreams()`.
   * @returns a promise for the release and a function that forgets the stream
   *   when its client leaves first.
   */
  holdStream(): { released: Promise<void>; forget(): void } {
    let release = (): void => undefined;
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    this.heldStreams.add(release);
    return { released, forget: () => this.heldStreams.delete(release) };
  }

  /** Streams parked by a hold fault right now. */
  heldStreamCount(): number {
    return this.heldStreams.size;
  }

  /** Lets every parked stream go on. @returns how many were parked. */
  releaseStreams(): number {
    const count = this.heldStreams.size;
    for (const release of this.heldStreams) release();
    this.heldStreams.clear();
    return count;
  }

  /** Back to a fresh server: no faults, no counts, no seen models, no parked streams. */
  reset(): void {
    this.releaseStreams();
    this.faults.clear();
    this.calls.clear();
    this.bodies.clear();
    this.timings.clear();
    this.billing.length = 0;
    this.seenModels.clear();
  }
}
