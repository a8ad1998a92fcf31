// Runs in the workflow sandbox: deterministic, no I/O.
import { z } from 'zod';
import { PROVIDER_TYPES, RetrySettingsSchema, TimeoutSettingsSchema } from './config-schema';

/**
 * Every non-deterministic routing input, read by a (local) activity and so
 * recorded in history: replay routes exactly as the original run did.
 * Holds no secrets: providers are referenced by id.
 */
export const RoutingSnapshotSchema = z.object({
  configVersion: z.string(),
  providers: z.record(
    z.string(),
    z.object({ type: z.enum(PROVIDER_TYPES), retry: RetrySettingsSchema, timeouts: TimeoutSettingsSchema }),
  ),
  models: z.record(z.string(), z.object({ provider: z.string(), upstreamModel: z.string(), fallbacks: z.array(z.string()) })),
  routes: z.record(z.string(), z.array(z.string())),
  defaultRoute: z.string(),
  fallbackMessage: z.string(),
});
export type RoutingSnapshot = z.infer<typeof RoutingSnapshotSchema>;

/** One model the chain will try, with why it is there. */
export interface RouteCandidate {
  modelId: string;
  providerId: string;
  upstreamModel: string;
  reason: string;
}

export interface RejectedModel {
  modelId: string;
  reason: string;
}

/** The route decision: ordered candidates and what was left out, with reasons. */
export interface RoutePlan {
  /** What the caller asked for, resolved: a model id or a route name. */
  resolvedFrom: string;
  candidates: RouteCandidate[];
  rejected: RejectedModel[];
}

/** What `callModel` receives: the request plus a reference to the model (never a key). */
export interface CallModelInput {
  modelId: string;
  providerId: string;
  upstreamModel: string;
}
