// The gateway's own resources (`gateway.route_explanation`, `gateway.request`) in wire names.
import type { CanonicalResponse } from '../common/response-schema';
import type { RoutePlan } from '../common/routing-snapshot-schema';
import type { BudgetConfig } from '../common/config-schema';
import { own } from '../common/own';
import { roundUsd } from '../common/pricing';
import type { BudgetView } from '../services/budget-board';
import type { EvalScores } from '../services/quality-board';
import type { SpendDimension, SpendFigures, SpendReport } from '../services/spend-report';
import { toChatCompletion } from './openai/convert-chat-completion';

/** `POST /v1/route/explain`'s body: the plan for `model` in wire names. */
export function toRouteExplanation(model: string, plan: RoutePlan & { configVersion: string }) {
  return {
    object: 'gateway.route_explanation',
    config_version: plan.configVersion,
    model,
    resolved_from: plan.resolvedFrom,
    strategy: plan.strategy,
    task_class: plan.taskClass ?? null,
    criticality: plan.criticality ?? null,
    sensitivity: plan.sensitivity ?? null,
    prompt_tokens: plan.promptTokens ?? null,
    findings: plan.findings ?? {},
    required_capabilities: plan.required ?? [],
    refused: plan.refused ?? null,
    candidates: plan.candidates.map((candidate) => ({
      model: candidate.model,
      provider: candidate.provider,
      reason: candidate.reason,
      score: candidate.score ?? null,
      parts: candidate.parts ?? null,
      estimated_cost_usd: candidate.estimatedCostUsd ?? null,
      redacted: candidate.redact === true,
    })),
    rejected: plan.rejected.map((model) => ({ model: model.model, reason: model.reason })),
  };
}

/** What `GET /v1/requests/:id` tells about one request. */
export interface RequestState {
  id: string;
  status: string;
  startTime: Date;
  closeTime?: Date;
  /** While running: the worker's progress, or null when no worker answered in time. */
  progress?: unknown;
  result?: CanonicalResponse;
  error?: { message: string; type?: string; code?: string | null };
}

/** `GET /v1/requests/:id`'s body (`gateway.request`); a finished answer is a chat completion. */
export function toRequestStatus(state: RequestState) {
  return {
    id: state.id,
    object: 'gateway.request',
    status: state.status,
    created_at: Math.floor(state.startTime.getTime() / 1000),
    completed_at: state.closeTime ? Math.floor(state.closeTime.getTime() / 1000) : null,
    ...(state.progress === undefined ? {} : { progress: state.progress }),
    ...(state.result === undefined ? {} : { result: toChatCompletion(state.result) }),
    ...(state.error === undefined ? {} : { error: state.error }),
  };
}

/** `GET /v1/spend`'s body. */
export function toSpendReport(report: SpendReport) {
  const group = (dimension: SpendDimension) => report.by[dimension].map(({ name, ...group }) => ({ [dimension]: name, ...spendFigures(group) }));
  return {
    since: report.since.toISOString(),
    until: report.until.toISOString(),
    ...(report.tenant === undefined ? {} : { tenant: report.tenant }),
    truncated: report.truncated,
    totals: spendFigures(report.totals),
    by_tenant: group('tenant'),
    by_feature: group('feature'),
    by_model: group('model'),
    by_day: group('day'),
    rows: report.rows.map((row) => ({ day: row.day, tenant: row.tenant, feature: row.feature, model: row.model, ...spendFigures(row) })),
    currency: 'USD',
  };
}

function spendFigures(figures: SpendFigures) {
  return {
    requests: figures.requests,
    successful: figures.successful,
    cost_usd: roundUsd(figures.costUsd),
    cost_per_successful_request_usd: figures.successful === 0 ? null : roundUsd(figures.costUsd / figures.successful),
  };
}

/** `GET /v1/evals`'s body: the latest scores, by task class, best first. */
export function toEvalScoreList(scores: EvalScores) {
  return {
    object: 'list',
    updated_at: scores.updatedAt === null ? null : new Date(scores.updatedAt).toISOString(),
    data: Object.values(scores.byTaskClass)
      .flatMap((models) => Object.values(models))
      .sort((left, right) => left.taskClass.localeCompare(right.taskClass) || right.passRate - left.passRate)
      .map((score) => ({
        task_class: score.taskClass,
        model: score.model,
        pass_rate: score.passRate,
        passed: score.passed,
        cases: score.cases,
        latency_ms_p50: score.latencyMsP50,
        cost_usd: score.costUsd,
        cost_per_pass_usd: score.costPerPassUsd,
        run_at: new Date(score.runAt).toISOString(),
        workflow_id: score.workflowId,
        failures: score.failures,
      })),
  };
}

/** `GET /v1/budgets`'s body: each budget's current period beside its configuration. */
export function toBudgetList(views: BudgetView[], budgets: Readonly<Record<string, BudgetConfig>>) {
  return {
    object: 'list',
    data: views.map((view) => {
      const budget = own(budgets, view.name);
      return {
        name: view.name,
        tenant: budget?.tenant ?? null,
        feature: budget?.feature ?? null,
        period: budget?.period,
        period_key: view.periodKey,
        ends_at: new Date(view.endsAt).toISOString(),
        limit_usd: view.limitUsd,
        spent_usd: view.spentUsd,
        // Worst cases of calls whose cost was never reported (a worker lost mid-call): charged, shown apart.
        unsettled_usd: view.unsettledUsd,
        reserved_usd: view.reservedUsd,
        available_usd: view.availableUsd,
        reservations: view.reservations,
        when_low: budget?.whenLow,
        low: budget !== undefined && view.availableUsd <= view.limitUsd * budget.lowAtFraction,
      };
    }),
  };
}
