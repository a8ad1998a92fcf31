// Runs in the workflow sandbox: deterministic, no I/O.

/** Task queue the worker polls and the API starts workflows on. @default 'switchyard' */
export const DEFAULT_TASK_QUEUE = 'switchyard';

/** Route name that means "let the gateway choose". */
export const AUTO_ROUTE = 'auto';

/** Model id reported when the deterministic fallback answered. */
export const FALLBACK_MODEL_ID = 'fallback';

/** Slack between the SDK's own HTTP timeout and Temporal's start-to-close, so the SDK's classified error wins. */
export const ACTIVITY_TIMEOUT_MARGIN_MS = 5_000;

/** How long the routing snapshot local activity may take. */
export const ROUTING_SNAPSHOT_TIMEOUT_MS = 5_000;

/**
 * How long a streaming call may wait for the API process that holds the
 * caller's connection to pick it up. Past it that process is gone, and the
 * request finishes without streaming (its result stays readable by id).
 */
export const STREAM_PICKUP_TIMEOUT_MS = 10_000;

/** Longest wait for one budget ledger update (reserve or settle). */
export const BUDGET_UPDATE_TIMEOUT_MS = 10_000;

/** Longest wait for the response cache (a lookup or a store); past it, a miss. */
export const CACHE_TIMEOUT_MS = 5_000;

/**
 * How long a batch file activity (reading a page, writing results, joining
 * the output) may go without a heartbeat. The work is local file I/O that
 * heartbeats as it goes, so a worker that died holding it is noticed in
 * seconds and the activity is retried on another, instead of after its
 * start-to-close timeout.
 */
export const BATCH_FILE_HEARTBEAT_TIMEOUT_MS = 15_000;

/** The error of a batch line the completion window left unrun (OpenAI's `batch_expired`). */
export const BATCH_EXPIRED_MESSAGE = 'This request could not be executed before the completion window expired.';
