// Zod-free, so workflow code may import it. What a provider call is given and what it returns.
import type { ModelOutput, Usage } from './response-schema';
import type { CallModelInput } from './routing-snapshot-schema';

/**
 * A call target as histories recorded it: before 2026-12-02 the model and
 * provider were `modelId` and `providerId`. Activities scheduled by an older
 * worker and eval plans replayed from older histories still carry those.
 */
export type RecordedCallModelInput = CallModelInput | (Omit<CallModelInput, 'model' | 'provider'> & { modelId: string; providerId: string });

/** A recorded call target in today's names. */
export function readCallTarget(recorded: RecordedCallModelInput): CallModelInput {
  if (!('modelId' in recorded)) return recorded;
  const { modelId, providerId, ...rest } = recorded;
  return { model: modelId, provider: providerId, ...rest };
}

/** What `callModel` and `streamModel` return: the model's output and how many tries Temporal needed. */
export interface CallModelResult {
  output: ModelOutput;
  tries: number;
  /** Tokens the provider reported over every try (a refused output is billed too). */
  billedUsage?: Usage;
  /** Earlier tries lost with their worker or cut off by a timeout: each may have been billed, unseen. */
  lostTries?: number;
}
