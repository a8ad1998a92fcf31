// Runs in the workflow sandbox: deterministic, no I/O.
import { z } from 'zod';

/** Temporal retry policy for one provider's activity, in config terms. */
export const RetrySettingsSchema = z
  .object({
    /** Calls to this provider per model in one request, first call included. @default 3 */
    maximumAttempts: z.number().int().min(1).max(20).default(3),
    /** @default 200 */
    initialIntervalMs: z.number().int().positive().default(200),
    /** @default 2 */
    backoffCoefficient: z.number().min(1).max(10).default(2),
    /** @default 5000 */
    maximumIntervalMs: z.number().int().positive().default(5_000),
    /** A Retry-After longer than this falls over at once instead of waiting. @default 10000 */
    maxRetryAfterMs: z.number().int().nonnegative().default(10_000),
  })
  .strict()
  .refine((r) => r.maximumIntervalMs >= r.initialIntervalMs, {
    message: 'maximumIntervalMs must be >= initialIntervalMs',
    path: ['maximumIntervalMs'],
  });
export type RetrySettings = z.infer<typeof RetrySettingsSchema>;

export const TimeoutSettingsSchema = z
  .object({
    /** One HTTP call to the provider (the SDK's own timeout). @default 30000 */
    requestMs: z.number().int().positive().default(30_000),
    /** All tries of one model, retries and backoff included. @default 90000 */
    totalMs: z.number().int().positive().default(90_000),
    /** Worker liveness: a crashed worker's call is retried after this. @default 10000 */
    heartbeatMs: z.number().int().positive().default(10_000),
    /**
     * One streamed answer from first byte to last. A stream may outlast
     * `requestMs` as long as no gap between chunks is longer than `requestMs`.
     * @default 300000
     */
    streamMs: z.number().int().positive().default(300_000),
  })
  .strict();
export type TimeoutSettings = z.infer<typeof TimeoutSettingsSchema>;

export const PROVIDER_TYPES = ['openai', 'anthropic', 'openai-compatible'] as const;
export type ProviderType = (typeof PROVIDER_TYPES)[number];

export const ProviderConfigSchema = z
  .object({
    type: z.enum(PROVIDER_TYPES),
    /** API base URL (from config only, never from a request). */
    baseUrl: z.url(),
    /** Name of the environment variable holding the key, never the key itself. */
    apiKeyEnv: z
      .string()
      .regex(/^[A-Z_][A-Z0-9_]*$/, 'apiKeyEnv is the NAME of an environment variable, e.g. OPENAI_API_KEY')
      .optional(),
    retry: RetrySettingsSchema.default({
      maximumAttempts: 3,
      initialIntervalMs: 200,
      backoffCoefficient: 2,
      maximumIntervalMs: 5_000,
      maxRetryAfterMs: 10_000,
    }),
    timeouts: TimeoutSettingsSchema.default({ requestMs: 30_000, totalMs: 90_000, heartbeatMs: 10_000, streamMs: 300_000 }),
  })
  .strict();
export type ProviderConfig = z.infer<typeof ProviderConfigSchema>;

export const ModelConfigSchema = z
  .object({
    provider: z.string().min(1),
    /** The model's name at the provider. @default the model id */
    upstreamModel: z.string().min(1).optional(),
    /** Models tried after this one when a caller names it directly. */
    fallbacks: z.array(z.string().min(1)).default([]),
  })
  .strict();
export type ModelConfig = z.infer<typeof ModelConfigSchema>;

const TenantConfigSchema = z
  .object({
    /** sha256 hex digests of the tenant's API keys (never the keys). */
    keySha256: z.array(z.string().regex(/^[a-f0-9]{64}$/, 'keySha256 entries are lowercase sha256 hex digests')).min(1),
  })
  .strict();

export const GatewayConfigSchema = z
  .object({
    providers: z.record(z.string().regex(/^[a-z0-9][a-z0-9_-]*$/), ProviderConfigSchema),
    models: z.record(z.string().min(1), ModelConfigSchema),
    /** Named ordered chains; callers may pass a route name as `model`. */
    routes: z.record(z.string().min(1), z.array(z.string().min(1)).min(1)),
    /** Route used when the caller asks for `auto` or names no model. */
    defaultRoute: z.string().min(1),
    /** The deterministic answer when every model of the chain failed. */
    fallback: z
      .object({ message: z.string().min(1) })
      .strict()
      .default({ message: 'The service is temporarily unable to answer. Please try again later.' }),
    tenants: z.record(z.string().regex(/^[a-zA-Z0-9_-]{1,64}$/), TenantConfigSchema),
  })
  .strict()
  .superRefine((config, ctx) => {
    for (const [id, model] of Object.entries(config.models)) {
      if (!config.providers[model.provider]) {
        ctx.addIssue({ code: 'custom', path: ['models', id, 'provider'], message: `unknown provider "${model.provider}"` });
      }
      model.fallbacks.forEach((fallback, index) => {
        if (!config.models[fallback]) {
          ctx.addIssue({ code: 'custom', path: ['models', id, 'fallbacks', index], message: `unknown model "${fallback}"` });
        }
      });
    }
    for (const [name, chain] of Object.entries(config.routes)) {
      if (config.models[name]) {
        ctx.addIssue({ code: 'custom', path: ['routes', name], message: `route "${name}" has the same name as a model` });
      }
      chain.forEach((model, index) => {
        if (!config.models[model]) {
          ctx.addIssue({ code: 'custom', path: ['routes', name, index], message: `unknown model "${model}"` });
        }
      });
    }
    if (!config.routes[config.defaultRoute]) {
      ctx.addIssue({ code: 'custom', path: ['defaultRoute'], message: `unknown route "${config.defaultRoute}"` });
    }
  });
export type GatewayConfig = z.infer<typeof GatewayConfigSchema>;
export type GatewayConfigInput = z.input<typeof GatewayConfigSchema>;
