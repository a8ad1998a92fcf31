// Runs in the workflow sandbox: deterministic, no I/O. Kept free of zod so the
// workflow bundle does not build schemas for every workflow it runs.

/** What a request may need from a model; a model without it is never chosen for that request. */
export const CAPABILITIES = ['tools', 'json_object', 'json_schema', 'vision', 'streaming'] as const;
export type Capability = (typeof CAPABILITIES)[number];
