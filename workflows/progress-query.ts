// Runs in the workflow sandbox: deterministic, no I/O.
import { defineQuery } from '@temporalio/workflow';
import type { Attempt } from '../common/response-schema';

/** Where a running request stands; answered by the `progress` query (API, client, Temporal UI). */
export interface RequestProgress {
  phase: 'routing' | 'calling' | 'finished';
  /** 1-based place of the model being called in the chain; 0 while routing. */
  position: number;
  chainLength: number;
  /** The model being called now. */
  current: { model: string; provider: string; streaming: boolean } | null;
  /** Finished attempts so far, failures with their type. */
  attempts: Attempt[];
}

export const progressQuery = defineQuery<RequestProgress>('progress');
