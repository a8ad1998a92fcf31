// Zod-free, so workflow code may import it.
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
