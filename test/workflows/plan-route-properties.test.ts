import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { CAPABILITIES, SENSITIVITY_ACTIONS, type Capability } from '../../common/config-schema';
import { AUTO_ROUTE } from '../../common/constants';
import type { RequestAssessment, RoutePlan, RoutingSnapshot } from '../../common/routing-snapshot-schema';
import { SENSITIVE_DATA_KINDS } from '../../common/sensitive-data-kinds';
import { DEFAULT_OUTPUT_TOKENS_ESTIMATE, planRoute, type PlanOptions } from '../../workflows/plan-route';

// Every expectation below is worked out from the inputs and planRoute's
// documented rules, never by calling its helpers, so a bug in one is not
// copied into the other.

type PlanRequest = Parameters<typeof planRoute>[0];
type Tags = RequestAssessment['tags'];
type SnapshotModel = RoutingSnapshot['models'][string];
interface Scenario {
  request: PlanRequest;
  snapshot: RoutingSnapshot;
  options: PlanOptions;
}

// node:test does not print an error's cause, so the failing assertion goes in the message.
const RUNS = { numRuns: 1_000, includeErrorInReport: true };
const MODEL_IDS = ['m0', 'm1', 'm2', 'm3', 'm4', 'm5', 'm6', 'm7'];
/** A model id that chains name but config does not define. */
const UNKNOWN_MODEL = 'ghost';
const ROUTE_NAMES = ['r0', 'r1', 'r2'];
const TASK_CLASS_NAMES = ['c0', 'c1', 'c2'];
const TIER_NAMES = ['t0', 't1', 't2'];
/** Least sensitive first; a policy takes the first two to four. */
const CLASS_NAMES = ['public', 'internal', 'confidential', 'restricted'];
/** A sensitivity class no policy lists: it counts as the most sensitive. */
const UNLISTED_CLASS = 'unlisted';
/** Names every plain object inherits; a request may name them too. */
const INHERITED_NAMES = ['constructor', 'toString', '__proto__', 'hasOwnProperty', 'valueOf'];

// Real snapshots come from zod and JSON: ordinary objects, never null-prototype ones.
const plainObjects = { noNullPrototype: true };

const retry = { maximumAttempts: 3, initialIntervalMs: 100, backoffCoefficient: 2, maximumIntervalMs: 1000, maxRetryAfterMs: 1000 };
const timeouts = { requestMs: 1000, totalMs: 5000, heartbeatMs: 1000, streamMs: 10000 };

const unitInterval = fc.double({ min: 0, max: 1, noNaN: true });
const pricePerMillion = fc.oneof(fc.constant(0), fc.double({ min: 0, max: 60, noNaN: true }));

/** `value` without its undefined keys, as JSON would carry it. */
function withoutUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, entry]) => entry !== undefined)) as T;
}

/** Mostly present, sometimes absent. */
function usually<T>(arbitrary: fc.Arbitrary<T>): fc.Arbitrary<T | undefined> {
  return fc.option(arbitrary, { nil: undefined, freq: 5 });
}

/**
 * Present about once in `oneIn` draws. Constraints are drawn this sparingly
 * so that enough plans keep candidates for the properties to say something.
 */
function sometimes<T>(arbitrary: fc.Arbitrary<T>, oneIn = 2): fc.Arbitrary<T | undefined> {
  return fc.oneof({ withCrossShrink: true }, { weight: oneIn - 1, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary });
}

/** Mostly distinct configured ids, now and then with a repeat or an id config does not define. */
function chainArbitrary(modelIds: readonly string[], minLength: number): fc.Arbitrary<string[]> {
  const distinct = fc.uniqueArray(fc.constantFrom(...modelIds), { minLength, maxLength: 5 });
  const extras = fc.array(fc.oneof(fc.constantFrom(...modelIds), fc.constant(UNKNOWN_MODEL)), { maxLength: 2 });
  return fc.tuple(distinct, extras, fc.nat()).map(([chain, inserted, position]) => {
    const result = [...chain];
    for (const modelId of inserted) result.splice(position % (result.length + 1), 0, modelId);
    return result;
  });
}

function modelArbitrary(modelIds: readonly string[], classes: readonly string[]): fc.Arbitrary<SnapshotModel> {
  return fc
    .record(
      {
        provider: fc.oneof({ weight: 6, arbitrary: fc.constantFrom('p0', 'p1') }, { weight: 1, arbitrary: fc.constant('retired') }),
        upstreamModel: fc.constantFrom('upstream-a', 'upstream-b'),
        fallbacks: chainArbitrary(modelIds, 0),
        contextWindow: sometimes(fc.integer({ min: 1, max: 40_000 })),
        capabilities: sometimes(fc.subarray([...CAPABILITIES]), 3),
        pricing: usually(fc.record({ inputPerMillionUsd: pricePerMillion, outputPerMillionUsd: pricePerMillion }, plainObjects)),
        approvedFor: sometimes(fc.subarray([...classes, UNLISTED_CLASS])),
        selfHosted: sometimes(fc.boolean()),
        openSource: sometimes(fc.boolean()),
        quality: sometimes(fc.dictionary(fc.constantFrom(...TASK_CLASS_NAMES, 'default'), unitInterval, { maxKeys: 4, ...plainObjects })),
        typicalLatencyMs: sometimes(fc.integer({ min: 50, max: 5_000 })),
      },
      plainObjects,
    )
    .map(withoutUndefined);
}

function tagsArbitrary(classes: readonly string[]): fc.Arbitrary<Tags> {
  return fc
    .record(
      {
        taskClass: sometimes(fc.constantFrom(...TASK_CLASS_NAMES, 'c-unknown')),
        sensitivity: sometimes(fc.constantFrom(...classes, UNLISTED_CLASS)),
        criticality: sometimes(fc.constantFrom(...TIER_NAMES, 't-unknown')),
        latencyBudgetMs: sometimes(fc.integer({ min: 50, max: 5_000 }), 3),
        costCeilingUsd: sometimes(fc.double({ min: 1e-4, max: 1, noNaN: true }), 3),
        capabilities: sometimes(fc.subarray([...CAPABILITIES], { maxLength: 2 }), 3),
      },
      plainObjects,
    )
    .map(withoutUndefined);
}

function sensitivityArbitrary(classes: readonly string[]): fc.Arbitrary<NonNullable<RoutingSnapshot['sensitivity']>> {
  const className = fc.oneof({ weight: 6, arbitrary: fc.constantFrom(...classes) }, { weight: 1, arbitrary: fc.constant(UNLISTED_CLASS) });
  const [allow, redact, refuse] = SENSITIVITY_ACTIONS;
  const action = fc.oneof(
    { weight: 3, arbitrary: fc.constant(allow) },
    { weight: 3, arbitrary: fc.constant(redact) },
    { weight: 1, arbitrary: fc.constant(refuse) },
  );
  return fc.record(
    {
      classes: fc.constant([...classes]),
      default: className,
      actions: fc.dictionary(fc.constantFrom(...classes), action, { maxKeys: classes.length, ...plainObjects }),
      detect: fc.record(
        { email: className, phone: className, payment_card: className, iban: className, national_id: className, secret: className },
        { requiredKeys: [], ...plainObjects },
      ),
    },
    plainObjects,
  );
}

function assessmentArbitrary(classes: readonly string[]): fc.Arbitrary<RequestAssessment> {
  const count = sometimes(fc.integer({ min: 1, max: 5 }), 6);
  return fc.record(
    {
      promptTokens: fc.integer({ min: 0, max: 20_000 }),
      findings: fc
        .record({ email: count, phone: count, payment_card: count, iban: count, national_id: count, secret: count }, plainObjects)
        .map(withoutUndefined),
      tags: tagsArbitrary(classes),
    },
    plainObjects,
  );
}

function snapshotArbitrary(modelIds: readonly string[], classes: readonly string[]): fc.Arbitrary<RoutingSnapshot> {
  const weight = fc.oneof(fc.constant(0), unitInterval);
  const tier = fc.record(
    {
      weights: fc.record({ quality: weight, cost: weight, latency: weight, success: weight, fit: weight }, plainObjects),
      openSourceLast: fc.boolean(),
    },
    plainObjects,
  );
  const observed = fc.record(
    {
      successes: fc.integer({ min: 0, max: 50 }),
      failures: fc.integer({ min: 0, max: 50 }),
      latencyMs: fc.option(fc.integer({ min: 0, max: 5_000 }), { nil: null }),
    },
    plainObjects,
  );
  return fc
    .record(
      {
        configVersion: fc.constant('sha256:properties'),
        providers: fc.constant({ p0: { type: 'openai' as const, retry, timeouts }, p1: { type: 'anthropic' as const, retry, timeouts } }),
        models: fc.record(Object.fromEntries(modelIds.map((id) => [id, modelArbitrary(modelIds, classes)])), plainObjects),
        routes: fc.dictionary(fc.constantFrom(...ROUTE_NAMES), chainArbitrary(modelIds, 1), { minKeys: 1, ...plainObjects }),
        defaultRoute: fc.oneof({ weight: 6, arbitrary: fc.constantFrom(...ROUTE_NAMES) }, { weight: 1, arbitrary: fc.constant('r-unknown') }),
        fallbackMessage: fc.constant('sorry'),
        taskClasses: usually(fc.dictionary(fc.constantFrom(...TASK_CLASS_NAMES), chainArbitrary(modelIds, 1), { minKeys: 1, ...plainObjects })),
        defaultTaskClass: fc.option(fc.constantFrom(...TASK_CLASS_NAMES, 'c-unknown'), { nil: undefined, freq: 2 }),
        criticality: usually(
          fc.record(
            { default: fc.constantFrom(...TIER_NAMES), tiers: fc.dictionary(fc.constantFrom(...TIER_NAMES), tier, { minKeys: 1, ...plainObjects }) },
            plainObjects,
          ),
        ),
        sensitivity: usually(sensitivityArbitrary(classes)),
        observed: fc.option(fc.dictionary(fc.constantFrom(...modelIds, UNKNOWN_MODEL), observed, { maxKeys: 4, ...plainObjects }), {
          nil: undefined,
          freq: 2,
        }),
        assessment: usually(assessmentArbitrary(classes)),
      },
      plainObjects,
    )
    .map(withoutUndefined);
}

function requestArbitrary(modelIds: readonly string[], classes: readonly string[]): fc.Arbitrary<PlanRequest> {
  const textPart = fc.record({ type: fc.constant('text' as const), text: fc.constant('look at this') }, plainObjects);
  const imagePart = fc.record({ type: fc.constant('image_url' as const), url: fc.constant('https://example.com/cat.png') }, plainObjects);
  const message = fc.oneof(
    fc.record({ role: fc.constant('system' as const), content: fc.constant('be brief') }, plainObjects),
    fc.record(
      {
        role: fc.constant('user' as const),
        content: fc.oneof(fc.constant('hi'), fc.array(fc.oneof(textPart, imagePart), { minLength: 1, maxLength: 3 })),
      },
      plainObjects,
    ),
    fc.record({ role: fc.constant('assistant' as const), content: fc.constantFrom('ok', null) }, plainObjects),
    fc.record({ role: fc.constant('tool' as const), toolCallId: fc.constant('call-1'), content: fc.constant('42') }, plainObjects),
  );
  const tool = fc.record({ name: fc.constantFrom('lookup', 'search'), parameters: fc.record({ type: fc.constant('object') }, plainObjects) }, plainObjects);
  return fc
    .record(
      {
        model: fc.oneof(
          { weight: 2, arbitrary: fc.constantFrom(...modelIds) },
          { weight: 2, arbitrary: fc.constantFrom(...ROUTE_NAMES) },
          { weight: 2, arbitrary: fc.constantFrom(...TASK_CLASS_NAMES) },
          { weight: 2, arbitrary: fc.constant(AUTO_ROUTE) },
          { weight: 1, arbitrary: fc.constantFrom(UNKNOWN_MODEL, 'nothing') },
        ),
        messages: fc.array(message, { minLength: 1, maxLength: 4 }),
        tools: sometimes(fc.array(tool, { maxLength: 2 })),
        toolChoice: sometimes(
          fc.oneof(fc.constantFrom('auto' as const, 'none' as const, 'required' as const), fc.record({ name: fc.constant('lookup') }, plainObjects)),
        ),
        output: sometimes(
          fc.oneof(
            fc.record({ type: fc.constant('text' as const) }, plainObjects),
            fc.record({ type: fc.constant('json_object' as const) }, plainObjects),
            fc.record({ type: fc.constant('json_schema' as const), name: fc.constant('answer'), schema: fc.constant({}) }, plainObjects),
          ),
        ),
        // The default estimate itself is a value a caller may well set.
        sampling: fc.record(
          { maxTokens: fc.oneof(fc.constant(DEFAULT_OUTPUT_TOKENS_ESTIMATE), fc.integer({ min: 1, max: 20_000 })) },
          { requiredKeys: [], ...plainObjects },
        ),
        tags: tagsArbitrary(classes),
      },
      plainObjects,
    )
    .map(withoutUndefined);
}

const scenarioArbitrary: fc.Arbitrary<Scenario> = fc
  .record({ modelCount: fc.integer({ min: 2, max: 8 }), classCount: fc.integer({ min: 2, max: 4 }) })
  .chain(({ modelCount, classCount }) => {
    const modelIds = MODEL_IDS.slice(0, modelCount);
    const classes = CLASS_NAMES.slice(0, classCount);
    return fc.record(
      {
        request: requestArbitrary(modelIds, classes),
        snapshot: snapshotArbitrary(modelIds, classes),
        options: fc.record({ streaming: fc.boolean() }, { requiredKeys: [], ...plainObjects }),
      },
      plainObjects,
    );
  });

/** Runs `check` on the plan of every generated scenario. */
function forEveryPlan(check: (scenario: Scenario, plan: RoutePlan) => void): void {
  fc.assert(
    fc.property(scenarioArbitrary, (scenario) => check(scenario, planRoute(scenario.request, scenario.snapshot, scenario.options))),
    RUNS,
  );
}

// The expectations, from the inputs alone.

function own<T>(record: Readonly<Record<string, T>> | undefined, key: string | undefined): T | undefined {
  return record !== undefined && key !== undefined && Object.hasOwn(record, key) ? record[key] : undefined;
}

function configuredModel(snapshot: RoutingSnapshot, modelId: string): SnapshotModel {
  const model = own(snapshot.models, modelId);
  assert.ok(model, `candidate ${modelId} is not a configured model`);
  return model;
}

/** The assessment's tags (tenant defaults filled in), else the request's own. */
function tagsOf({ request, snapshot }: Scenario): Tags {
  return snapshot.assessment?.tags ?? request.tags;
}

/** The chain the request names: a model and its fallbacks, a route, a task class, or `auto`. */
function expectedSource(scenario: Scenario): { strategy: RoutePlan['strategy']; chain: string[] } {
  const { request, snapshot } = scenario;
  const model = own(snapshot.models, request.model);
  if (model) return { strategy: 'ordered', chain: [request.model, ...model.fallbacks] };
  const route = own(snapshot.routes, request.model);
  if (route) return { strategy: 'ordered', chain: route };
  const taskClass = request.model === AUTO_ROUTE ? (tagsOf(scenario).taskClass ?? snapshot.defaultTaskClass) : request.model;
  const classModels = own(snapshot.taskClasses, taskClass);
  if (classModels) return { strategy: 'scored', chain: classModels };
  if (request.model === AUTO_ROUTE) return { strategy: 'ordered', chain: own(snapshot.routes, snapshot.defaultRoute) ?? [] };
  return { strategy: 'ordered', chain: [] };
}

function expectedCapabilities(scenario: Scenario): Set<Capability> {
  const { request, options } = scenario;
  const needed = new Set<Capability>(tagsOf(scenario).capabilities ?? []);
  if (request.tools !== undefined && request.tools.length > 0 && request.toolChoice !== 'none') needed.add('tools');
  if (request.output?.type === 'json_schema') needed.add('json_schema');
  if (request.output?.type === 'json_object') needed.add('json_object');
  if (options.streaming === true) needed.add('streaming');
  for (const message of request.messages) {
    if (message.role === 'user' && typeof message.content !== 'string' && message.content.some((part) => part.type === 'image_url')) {
      needed.add('vision');
    }
  }
  return needed;
}

/** The named class (tag, else the default) raised by detected data; unlisted names count as the most sensitive. */
function expectedSensitivity(scenario: Scenario): { name: string; action: 'allow' | 'redact' | 'refuse'; defaultApproval: string[] } | undefined {
  const policy = scenario.snapshot.sensitivity;
  if (!policy) return undefined;
  const rankOf = (name: string): number => (policy.classes.includes(name) ? policy.classes.indexOf(name) : policy.classes.length - 1);
  let rank = rankOf(tagsOf(scenario).sensitivity ?? policy.default);
  for (const kind of SENSITIVE_DATA_KINDS) {
    const raisedTo = policy.detect[kind];
    if ((scenario.snapshot.assessment?.findings[kind] ?? 0) > 0 && raisedTo !== undefined) rank = Math.max(rank, rankOf(raisedTo));
  }
  const name = policy.classes[rank];
  assert.ok(name !== undefined);
  return { name, action: own(policy.actions, name) ?? 'allow', defaultApproval: policy.classes.slice(0, -1) };
}

function hasFindings(snapshot: RoutingSnapshot): boolean {
  return SENSITIVE_DATA_KINDS.some((kind) => (snapshot.assessment?.findings[kind] ?? 0) > 0);
}

// The properties.

test('no candidate can cost more than the cost ceiling, and with a ceiling every candidate has prices', () => {
  forEveryPlan((scenario, plan) => {
    const ceiling = tagsOf(scenario).costCeilingUsd;
    if (ceiling === undefined) return;
    const promptTokens = scenario.snapshot.assessment?.promptTokens ?? 0;
    const outputTokens = scenario.request.sampling.maxTokens ?? DEFAULT_OUTPUT_TOKENS_ESTIMATE;
    for (const candidate of plan.candidates) {
      const { pricing } = configuredModel(scenario.snapshot, candidate.model);
      assert.ok(pricing, `${candidate.model} has no prices under a $${ceiling} ceiling`);
      const worstCase = (promptTokens * pricing.inputPerMillionUsd + outputTokens * pricing.outputPerMillionUsd) / 1e6;
      assert.ok(worstCase <= ceiling, `${candidate.model} may cost $${worstCase}, over the $${ceiling} ceiling`);
    }
  });
});

test('every candidate has every capability the request needs', () => {
  forEveryPlan((scenario, plan) => {
    const needed = expectedCapabilities(scenario);
    assert.deepEqual(new Set(plan.required), needed);
    for (const candidate of plan.candidates) {
      const capabilities = configuredModel(scenario.snapshot, candidate.model).capabilities ?? CAPABILITIES;
      for (const capability of needed) assert.ok(capabilities.includes(capability), `${candidate.model} cannot do ${capability}`);
    }
  });
});

test('the prompt, plus max_tokens when the request sets it, fits every candidate window', () => {
  forEveryPlan((scenario, plan) => {
    const { assessment } = scenario.snapshot;
    if (!assessment) return;
    const needed = assessment.promptTokens + (scenario.request.sampling.maxTokens ?? 0);
    for (const candidate of plan.candidates) {
      const { contextWindow } = configuredModel(scenario.snapshot, candidate.model);
      if (contextWindow === undefined) continue;
      assert.ok(needed <= contextWindow, `${candidate.model} has a ${contextWindow}-token window for ${needed} tokens`);
    }
  });
});

test('every candidate is approved for the effective sensitivity class, and a refused class has no candidates', () => {
  forEveryPlan((scenario, plan) => {
    const sensitivity = expectedSensitivity(scenario);
    if (!sensitivity) return;
    assert.equal(plan.sensitivity, sensitivity.name);
    if (sensitivity.action === 'refuse') {
      assert.ok(plan.refused, 'a refused class sets `refused`');
      assert.deepEqual(plan.candidates, []);
      return;
    }
    assert.equal(plan.refused, undefined);
    for (const candidate of plan.candidates) {
      const approved = configuredModel(scenario.snapshot, candidate.model).approvedFor ?? sensitivity.defaultApproval;
      assert.ok(approved.includes(sensitivity.name), `${candidate.model} is not approved for ${sensitivity.name}`);
    }
  });
});

test('no candidate is known to be slower than the latency budget', () => {
  forEveryPlan((scenario, plan) => {
    const budget = tagsOf(scenario).latencyBudgetMs;
    if (budget === undefined) return;
    for (const candidate of plan.candidates) {
      const observed = own(scenario.snapshot.observed, candidate.model)?.latencyMs;
      const latency = observed ?? configuredModel(scenario.snapshot, candidate.model).typicalLatencyMs;
      if (latency !== undefined) assert.ok(latency <= budget, `${candidate.model} takes ${latency} ms, over the ${budget} ms budget`);
    }
  });
});

test('the same inputs give the same plan, and planning never changes its inputs', () => {
  fc.assert(
    fc.property(scenarioArbitrary, (scenario) => {
      const before = structuredClone(scenario);
      const copy = structuredClone(scenario);
      const plan = planRoute(scenario.request, scenario.snapshot, scenario.options);
      assert.deepEqual(planRoute(scenario.request, scenario.snapshot, scenario.options), plan);
      assert.deepEqual(scenario, before);
      assert.deepEqual(planRoute(copy.request, copy.snapshot, copy.options), plan);
    }),
    RUNS,
  );
});

test('candidates are distinct configured models, and every model of the chain is either tried or rejected with a reason', () => {
  forEveryPlan((scenario, plan) => {
    const { snapshot } = scenario;
    for (const candidate of plan.candidates) {
      const model = configuredModel(snapshot, candidate.model);
      assert.ok(own(snapshot.providers, model.provider), `${candidate.model} has no provider ${model.provider}`);
      assert.equal(candidate.provider, model.provider);
      assert.equal(candidate.upstreamModel, model.upstreamModel);
      assert.ok(candidate.reason.length > 0);
    }
    const candidateIds = plan.candidates.map((candidate) => candidate.model);
    assert.equal(new Set(candidateIds).size, candidateIds.length, `a model is tried twice: ${candidateIds.join(', ')}`);
    // A refusal rejects the whole request before any model is looked at.
    if (plan.refused !== undefined) return;
    const source = expectedSource(scenario);
    assert.equal(plan.strategy, source.strategy);
    for (const rejected of plan.rejected) assert.ok(rejected.reason.length > 0, `${rejected.model} is rejected without a reason`);
    const accountedFor = [...candidateIds, ...plan.rejected.map((rejected) => rejected.model)];
    assert.deepEqual(accountedFor.sort(), [...source.chain].sort());
  });
});

test('a scored chain is best score first, open-source models last when the tier says so, and every score is in [0, 1]', () => {
  forEveryPlan((scenario, plan) => {
    if (plan.strategy !== 'scored') return;
    const { snapshot } = scenario;
    const tierName = tagsOf(scenario).criticality ?? snapshot.criticality?.default;
    const openSourceLast = own(snapshot.criticality?.tiers, tierName)?.openSourceLast === true;
    const isOpenSource = (modelId: string) => openSourceLast && configuredModel(snapshot, modelId).openSource === true;
    for (const candidate of plan.candidates) {
      const { score, parts } = candidate;
      assert.ok(score !== undefined && parts !== undefined, `${candidate.model} has no score`);
      for (const value of [score, ...Object.values(parts)]) assert.ok(value >= 0 && value <= 1, `${candidate.model} scores ${value}`);
    }
    for (const [index, later] of plan.candidates.entries()) {
      const earlier = plan.candidates[index - 1];
      if (earlier === undefined) continue;
      const [earlierLast, laterLast] = [isOpenSource(earlier.model), isOpenSource(later.model)];
      assert.ok(!earlierLast || laterLast, `open-source ${earlier.model} comes before ${later.model}`);
      if (earlierLast === laterLast) {
        assert.ok((earlier.score ?? 0) >= (later.score ?? 0), `${earlier.model} (${earlier.score}) comes before ${later.model} (${later.score})`);
      }
    }
  });
});

test('a candidate gets a redacted prompt exactly when its class redacts, data was found and it is not self-hosted', () => {
  forEveryPlan((scenario, plan) => {
    const redacts = expectedSensitivity(scenario)?.action === 'redact' && hasFindings(scenario.snapshot);
    for (const candidate of plan.candidates) {
      const expected = redacts && configuredModel(scenario.snapshot, candidate.model).selfHosted !== true;
      assert.equal(candidate.redact === true, expected, `${candidate.model} redact=${String(candidate.redact)}`);
    }
  });
});

test('a request naming a member every object inherits is planned like any unknown name, without throwing', () => {
  const name = fc.constantFrom(...INHERITED_NAMES);
  const where = fc.constantFrom('model', 'task class tag', 'criticality tag', 'sensitivity tag');
  fc.assert(
    fc.property(scenarioArbitrary, name, where, (scenario, inherited, field) => {
      const tags: Tags = { ...tagsOf(scenario) };
      if (field === 'task class tag') tags.taskClass = inherited;
      if (field === 'criticality tag') tags.criticality = inherited;
      if (field === 'sensitivity tag') tags.sensitivity = inherited;
      const model = field === 'model' ? inherited : AUTO_ROUTE;
      const snapshot = scenario.snapshot.assessment ? { ...scenario.snapshot, assessment: { ...scenario.snapshot.assessment, tags } } : scenario.snapshot;
      const plan = planRoute({ ...scenario.request, model, tags }, snapshot, scenario.options);
      for (const candidate of plan.candidates) configuredModel(snapshot, candidate.model);
      for (const candidate of plan.candidates) {
        for (const value of Object.values(candidate.parts ?? {})) assert.ok(Number.isFinite(value), `${candidate.model} scores ${value}`);
      }
    }),
    RUNS,
  );
});
