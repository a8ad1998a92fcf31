// Runs in the workflow sandbox: deterministic, no I/O.
import { CAPABILITIES, type Capability } from '../common/capabilities';
import type { ScoreWeights } from '../common/config-schema';
import { AUTO_ROUTE } from '../common/constants';
import { own } from '../common/own';
import { formatUsd } from '../common/pricing';
import type { CanonicalRequest } from '../common/request-schema';
import type {
  BudgetSnapshot,
  ObservedModel,
  RejectedModel,
  RequestAssessment,
  RouteCandidate,
  RoutePlan,
  RoutingSnapshot,
  ScoreParts,
} from '../common/routing-snapshot-schema';

/** Output tokens assumed for cost estimates when the request sets no `max_tokens`. */
export const DEFAULT_OUTPUT_TOKENS_ESTIMATE = 4_096;
/** Latency assumed for a model with no observation and no `typicalLatencyMs`. */
export const DEFAULT_LATENCY_MS = 1_000;
/** Quality assumed for a model that states none for the task class. */
export const DEFAULT_QUALITY = 0.5;
/** Prior success rate (as two pseudo-observations) of a model the worker has not seen yet. */
const SUCCESS_PRIOR = { rate: 0.9, weight: 2 };
/** A request costing this much (USD, worst case) gets half the cost score; free gets all of it. */
export const COST_REFERENCE_USD = 0.01;
/** Weights used when the snapshot has no criticality tiers. */
const FALLBACK_WEIGHTS: ScoreWeights = { quality: 0.3, cost: 0.2, latency: 0.15, success: 0.2, fit: 0.15 };

export interface PlanOptions {
  /** The caller reads the answer as a stream: every candidate must stream. */
  streaming?: boolean;
}

type SnapshotModel = RoutingSnapshot['models'][string];

/**
 * Orders the models to try for a request: a pure function of the request and
 * the routing snapshot, so the workflow replays it exactly.
 *
 * Where the candidates come from:
 * - a configured model id: that model, then its configured fallbacks (ordered);
 * - a route name: the route's chain (ordered);
 * - a task-class name, or `auto` with a task class (tag, tenant default or
 *   `defaultTaskClass`): the class's models, best score first (scored);
 * - `auto` without a task class: the default route (ordered).
 *
 * A provider whose shared breaker is open is skipped (`breaker open`), so a
 * request goes straight to the next candidate without paying a timeout; such
 * a model is `unavailable` (the request could go there), and a plan left with
 * no candidate but one of those answers the deterministic fallback, not a 400.
 * Constraints filter first, every rejected model with its reason: the
 * sensitivity class (raised by detected personal data) must be one the model
 * is approved for; the model must have every capability the request needs;
 * the prompt (plus `max_tokens`) must fit its window; its worst-case cost must
 * be under the cost ceiling; its latency under the latency budget. A scored
 * chain is ordered by the criticality tier's weighted score of quality,
 * cost, latency, success rate and fit, scaled by the success rate (a failed
 * attempt is worth nothing); ties keep config order.
 */
export function planRoute(
  request: Pick<CanonicalRequest, 'model' | 'messages' | 'tools' | 'toolChoice' | 'output' | 'sampling' | 'tags'>,
  snapshot: RoutingSnapshot,
  options: PlanOptions = {},
): RoutePlan {
  const assessment = snapshot.assessment;
  const tags = assessment?.tags ?? request.tags;
  const source = chainSource(request.model, tags.taskClass, snapshot);
  const rejected: RejectedModel[] = [];
  const plan: RoutePlan = { resolvedFrom: source.resolvedFrom, strategy: source.strategy, candidates: [], rejected };
  if (source.taskClass !== undefined) plan.taskClass = source.taskClass;

  const sensitivity = snapshot.sensitivity ? effectiveSensitivity(tags.sensitivity, assessment, snapshot.sensitivity) : undefined;
  const required = requiredCapabilities(request, tags.capabilities, options);
  plan.required = required;
  if (assessment) {
    plan.promptTokens = assessment.promptTokens;
    plan.findings = assessment.findings;
  }
  if (sensitivity) {
    plan.sensitivity = sensitivity.name;
    if (sensitivity.action === 'refuse') {
      plan.refused = `requests of sensitivity "${sensitivity.name}" are refused by policy`;
      return plan;
    }
  }

  const tierName = tags.criticality ?? snapshot.criticality?.default;
  const tier = tierName === undefined ? undefined : own(snapshot.criticality?.tiers, tierName);
  if (source.strategy === 'scored' && tierName !== undefined) plan.criticality = tierName;

  const outputTokens = request.sampling.maxTokens ?? DEFAULT_OUTPUT_TOKENS_ESTIMATE;
  const hasFindings = Object.keys(assessment?.findings ?? {}).length > 0;
  const imageUrls = request.messages.some(
    (message) => message.role === 'user' && Array.isArray(message.content) && message.content.some((part) => part.type === 'image_url' && /^https?:\/\//i.test(part.url)),
  );
  const seen = new Set<string>();
  const eligible: { candidate: RouteCandidate; model: SnapshotModel; index: number }[] = [];
  for (const [index, { modelId, reason }] of source.chain.entries()) {
    const model = own(snapshot.models, modelId);
    if (seen.has(modelId)) {
      rejected.push({ model: modelId, reason: 'already in the chain' });
      continue;
    }
    seen.add(modelId);
    if (!model || !own(snapshot.providers, model.provider)) {
      rejected.push({ model: modelId, reason: 'not configured' });
      continue;
    }
    const estimatedCostUsd = model.pricing
      ? ((assessment?.promptTokens ?? 0) * model.pricing.inputPerMillionUsd + outputTokens * model.pricing.outputPerMillionUsd) / 1e6
      : undefined;
    const why = rejection(model, {
      sensitivity,
      snapshot,
      required,
      assessment,
      maxTokens: request.sampling.maxTokens,
      estimatedCostUsd,
      tags,
      observed: own(snapshot.observed, modelId),
      imageUrls,
    });
    if (why !== undefined) {
      rejected.push({ model: modelId, reason: why });
      continue;
    }
    // Checked after the request's own constraints: a model skipped only for its breaker is unavailable, not ineligible.
    const breaker = own(snapshot.breakers, model.provider);
    if (breaker?.mode === 'open') {
      rejected.push({ model: modelId, reason: `breaker open${breaker.reason ? ` (${breaker.reason})` : ''}`, unavailable: true });
      continue;
    }
    const candidate: RouteCandidate = { model: modelId, provider: model.provider, upstreamModel: model.upstreamModel, reason };
    if (estimatedCostUsd !== undefined) candidate.estimatedCostUsd = roundTo(estimatedCostUsd, 8);
    if (sensitivity?.action === 'redact' && hasFindings && model.selfHosted !== true) candidate.redact = true;
    eligible.push({ candidate, model, index });
  }

  const affordable = applyBudgets(plan, eligible, snapshot.budgets ?? []);

  if (source.strategy === 'scored') {
    const weights = tier?.weights ?? FALLBACK_WEIGHTS;
    const scored = affordable.map((entry) => {
      // A pass rate measured by the evals of this task class replaces the configured prior.
      const measured = source.taskClass === undefined ? undefined : own(own(snapshot.measuredQuality, entry.candidate.model), source.taskClass);
      const parts = scoreParts(entry.model, entry.candidate, entry.index, source.chain.length, {
        taskClass: source.taskClass,
        observed: own(snapshot.observed, entry.candidate.model),
        measured,
      });
      if (snapshot.measuredQuality !== undefined) entry.candidate.qualityFrom = measured === undefined ? 'config' : 'eval';
      // A failed attempt is worth nothing: the weighted score is scaled by the chance the model answers.
      const score = weightedScore(parts, weights) * parts.success;
      entry.candidate.score = roundTo(score, 4);
      entry.candidate.parts = roundParts(parts);
      return { ...entry, score };
    });
    const openSourceLast = tier?.openSourceLast === true;
    scored.sort(
      (left, right) =>
        Number(openSourceLast && left.model.openSource === true) - Number(openSourceLast && right.model.openSource === true) ||
        right.score - left.score ||
        left.index - right.index,
    );
    plan.candidates = scored.map(({ candidate }) => candidate);
  } else {
    plan.candidates = affordable.map(({ candidate }) => candidate);
  }
  if (plan.budgets?.some((budget) => budget.action === 'cheaper_first')) {
    // A low budget: the cheapest worst case goes first (stable, so ties keep their order).
    plan.candidates = [...plan.candidates].sort((left, right) => (left.estimatedCostUsd ?? 0) - (right.estimatedCostUsd ?? 0));
  }
  return plan;
}

/**
 * Budgets the request counts against: each is `ok`, or low (less than its
 * `lowAtFraction` left) and then `cheaper_first` or `refuse`. A candidate
 * whose worst case is more than a budget has left is rejected; when a
 * refusing budget is low, or no candidate is left because of budgets, the
 * request is refused (`budgetExceeded`). Models without prices count as free.
 */
function applyBudgets<T extends { candidate: RouteCandidate }>(
  plan: RoutePlan,
  eligible: readonly T[],
  budgets: readonly BudgetSnapshot[],
): readonly T[] {
  if (budgets.length === 0) return eligible;
  plan.budgets = budgets.map((budget) => ({
    name: budget.name,
    availableUsd: budget.availableUsd,
    limitUsd: budget.limitUsd,
    action: budget.availableUsd <= budget.lowAtUsd ? budget.whenLow : 'ok',
  }));
  const refusing = plan.budgets.find((budget) => budget.action === 'refuse');
  if (refusing) {
    plan.budgetExceeded = `budget "${refusing.name}" is low (${usdInReason(Math.max(0, refusing.availableUsd))} of ${usdInReason(refusing.limitUsd)} USD left) and refuses requests`;
    return [];
  }
  const tightest = budgets.reduce((least, budget) => (budget.availableUsd < least.availableUsd ? budget : least));
  const affordable = eligible.filter(({ candidate }) => {
    const worstCase = candidate.estimatedCostUsd ?? 0;
    if (worstCase === 0 || worstCase <= tightest.availableUsd) return true;
    plan.rejected.push({
      model: candidate.model,
      reason: `worst-case cost ${usdInReason(worstCase)} USD is more than budget "${tightest.name}" has left (${usdInReason(Math.max(0, tightest.availableUsd))} USD)`,
    });
    return false;
  });
  if (affordable.length === 0 && eligible.length > 0) {
    plan.budgetExceeded = `budget "${tightest.name}" has ${usdInReason(Math.max(0, tightest.availableUsd))} of ${usdInReason(tightest.limitUsd)} USD left, less than any candidate's worst case`;
  }
  return affordable;
}

/** Where the chain comes from and how it is ordered. */
function chainSource(
  requested: string,
  taskClassTag: string | undefined,
  snapshot: RoutingSnapshot,
): { resolvedFrom: string; strategy: RoutePlan['strategy']; taskClass?: string; chain: { modelId: string; reason: string }[] } {
  const directModel = own(snapshot.models, requested);
  if (directModel) {
    return {
      resolvedFrom: requested,
      strategy: 'ordered',
      chain: [
        { modelId: requested, reason: 'requested model' },
        ...directModel.fallbacks.map((modelId, index) => ({ modelId, reason: `fallback ${index + 1} of ${requested}` })),
      ],
    };
  }
  const taskClasses = snapshot.taskClasses ?? {};
  const taskClass = requested === AUTO_ROUTE ? (taskClassTag ?? snapshot.defaultTaskClass) : requested;
  const classModels = taskClass === undefined ? undefined : own(taskClasses, taskClass);
  if (taskClass !== undefined && classModels && !own(snapshot.routes, requested)) {
    return {
      resolvedFrom: taskClass,
      strategy: 'scored',
      taskClass,
      chain: classModels.map((modelId, index) => ({ modelId, reason: `task class ${taskClass} #${index + 1}` })),
    };
  }
  const resolvedFrom = requested === AUTO_ROUTE ? snapshot.defaultRoute : requested;
  const route = own(snapshot.routes, resolvedFrom) ?? [];
  return {
    resolvedFrom,
    strategy: 'ordered',
    chain: route.map((modelId, index) => ({ modelId, reason: `route ${resolvedFrom} #${index + 1}` })),
  };
}

interface EffectiveSensitivity {
  name: string;
  /** Position in the classes, least sensitive first. */
  rank: number;
  action: 'allow' | 'redact' | 'refuse';
}

/**
 * The request's class: the one it names (or the tenant's or config's
 * default), raised to the most sensitive class any detected data calls for.
 * A class the config does not know counts as the most sensitive one.
 */
function effectiveSensitivity(
  named: string | undefined,
  assessment: RequestAssessment | undefined,
  policy: NonNullable<RoutingSnapshot['sensitivity']>,
): EffectiveSensitivity {
  const last = policy.classes.length - 1;
  const rankOf = (name: string): number => {
    const rank = policy.classes.indexOf(name);
    return rank < 0 ? last : rank;
  };
  let rank = rankOf(named ?? policy.default);
  for (const kind of Object.keys(assessment?.findings ?? {}) as (keyof typeof policy.detect)[]) {
    const raisedTo = own(policy.detect, kind);
    if (raisedTo !== undefined) rank = Math.max(rank, rankOf(raisedTo));
  }
  const name = policy.classes[rank] ?? named ?? policy.default;
  return { name, rank, action: own(policy.actions, name) ?? 'allow' };
}

/** Capabilities the request implies, plus the ones its tags ask for, in a fixed order. */
function requiredCapabilities(
  request: Pick<CanonicalRequest, 'messages' | 'tools' | 'toolChoice' | 'output'>,
  tagged: readonly Capability[] | undefined,
  options: PlanOptions,
): Capability[] {
  const needed = new Set<Capability>(tagged ?? []);
  if ((request.tools?.length ?? 0) > 0 && request.toolChoice !== 'none') needed.add('tools');
  if (request.output?.type === 'json_schema') needed.add('json_schema');
  if (request.output?.type === 'json_object') needed.add('json_object');
  if (options.streaming) needed.add('streaming');
  const hasImage = request.messages.some(
    (message) => message.role === 'user' && Array.isArray(message.content) && message.content.some((part) => part.type === 'image_url'),
  );
  if (hasImage) needed.add('vision');
  return CAPABILITIES.filter((capability) => needed.has(capability));
}

/** Why `model` may not serve this request, or undefined when it may. */
function rejection(
  model: SnapshotModel,
  context: {
    sensitivity: EffectiveSensitivity | undefined;
    snapshot: RoutingSnapshot;
    required: readonly Capability[];
    assessment: RequestAssessment | undefined;
    /** The request's own `max_tokens`, if it set one. */
    maxTokens: number | undefined;
    estimatedCostUsd: number | undefined;
    tags: RequestAssessment['tags'];
    observed: ObservedModel | undefined;
    /** The request sends an image by http(s) URL. */
    imageUrls: boolean;
  },
): string | undefined {
  const { sensitivity, snapshot, required, assessment, tags } = context;
  if (sensitivity && snapshot.sensitivity) {
    const approved = model.approvedFor ?? snapshot.sensitivity.classes.slice(0, Math.max(1, snapshot.sensitivity.classes.length - 1));
    if (!approved.includes(sensitivity.name)) return `not approved for ${sensitivity.name} data`;
  }
  const capabilities = model.capabilities ?? CAPABILITIES;
  const missing = required.filter((capability) => !capabilities.includes(capability));
  if (missing.length > 0) return `cannot do ${missing.join(', ')}`;
  if (context.imageUrls && own(snapshot.providers, model.provider)?.imageUrls === 'refuse') {
    return 'its provider takes no image URLs (send the image as a data URL)';
  }
  if (assessment && model.contextWindow !== undefined) {
    const needed = assessment.promptTokens + (context.maxTokens ?? 0);
    if (needed > model.contextWindow) {
      return `prompt of ~${assessment.promptTokens} tokens${context.maxTokens === undefined ? '' : ` plus max_tokens ${context.maxTokens}`} does not fit its ${model.contextWindow}-token window`;
    }
  }
  if (tags.costCeilingUsd !== undefined) {
    if (context.estimatedCostUsd === undefined) return 'no prices configured, so the cost ceiling cannot be checked';
    if (context.estimatedCostUsd > tags.costCeilingUsd) {
      return `worst-case cost ${usdInReason(context.estimatedCostUsd)} USD is over the ${usdInReason(tags.costCeilingUsd)} USD ceiling`;
    }
  }
  if (tags.latencyBudgetMs !== undefined) {
    const latency = expectedLatency(model, context.observed);
    if (latency.known && latency.ms > tags.latencyBudgetMs) {
      return `${latency.observed ? 'observed' : 'typical'} latency ${Math.round(latency.ms)} ms is over the ${tags.latencyBudgetMs} ms budget`;
    }
  }
  return undefined;
}

function expectedLatency(
  model: SnapshotModel,
  observed: ObservedModel | undefined,
): { ms: number; known: boolean; observed: boolean } {
  if (observed?.latencyMs != null) return { ms: observed.latencyMs, known: true, observed: true };
  if (model.typicalLatencyMs !== undefined) return { ms: model.typicalLatencyMs, known: true, observed: false };
  return { ms: DEFAULT_LATENCY_MS, known: false, observed: false };
}

function scoreParts(
  model: SnapshotModel,
  candidate: RouteCandidate,
  index: number,
  chainLength: number,
  context: { taskClass: string | undefined; observed: ObservedModel | undefined; measured: number | undefined },
): ScoreParts {
  const quality =
    context.measured ?? (context.taskClass === undefined ? undefined : own(model.quality, context.taskClass)) ?? model.quality?.default ?? DEFAULT_QUALITY;
  // Absolute scales, so a model's score does not depend on which others are in the chain.
  const cost = candidate.estimatedCostUsd === undefined ? 0.5 : COST_REFERENCE_USD / (COST_REFERENCE_USD + candidate.estimatedCostUsd);
  const latencyMs = expectedLatency(model, context.observed).ms;
  const successes = context.observed?.successes ?? 0;
  const calls = successes + (context.observed?.failures ?? 0);
  return {
    quality,
    cost,
    latency: DEFAULT_LATENCY_MS / (DEFAULT_LATENCY_MS + latencyMs),
    success: (successes + SUCCESS_PRIOR.rate * SUCCESS_PRIOR.weight) / (calls + SUCCESS_PRIOR.weight),
    fit: chainLength <= 1 ? 1 : 1 - index / chainLength,
  };
}

function weightedScore(parts: ScoreParts, weights: ScoreWeights): number {
  const total = weights.quality + weights.cost + weights.latency + weights.success + weights.fit;
  if (total === 0) return 0;
  return (
    (parts.quality * weights.quality +
      parts.cost * weights.cost +
      parts.latency * weights.latency +
      parts.success * weights.success +
      parts.fit * weights.fit) /
    total
  );
}

function roundParts(parts: ScoreParts): ScoreParts {
  return {
    quality: roundTo(parts.quality, 4),
    cost: roundTo(parts.cost, 4),
    latency: roundTo(parts.latency, 4),
    success: roundTo(parts.success, 4),
    fit: roundTo(parts.fit, 4),
  };
}

function roundTo(value: number, digits: number): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}

/** Reasons are read by people: USD to the micro-dollar (`0.01`, `0.061536`). */
const REASON_USD_DECIMALS = 6;
const usdInReason = (value: number): string => formatUsd(value, REASON_USD_DECIMALS);
