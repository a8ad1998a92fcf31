import { Router } from 'express';
import type { Client } from '@temporalio/client';
import { readBudgets } from '../../services/budget-board';
import { readEvalScores } from '../../services/quality-board';
import { roundUsd } from '../../common/pricing';
import { parseSinceText } from '../../common/time-window';
import type { ConfigStore } from '../../services/config-store';
import { HttpError } from '../../dialects/http-error';
import { requireAdmin } from './admin';

/** Most workflows one report reads from visibility. */
const MAX_WORKFLOWS = 100_000;

interface Cell {
  requests: number;
  successful: number;
  costUsd: number;
}

/**
 * `GET /v1/spend` (admin key): spend and cost per successful request by
 * tenant, feature, model and day, over `since` (`24h`, `7d`, `30m` or an ISO
 * time; default 24h) until `until` (default now), optionally for one
 * `tenant`. Read from Temporal visibility: every request workflow carries its
 * tenant, feature, answering model and cost as search attributes, and its
 * cost per model (failed attempts included) in its memo.
 */
export function spendRouter(client: Client, store: ConfigStore): Router {
  const router = Router();

  /** `GET /v1/evals` (admin key): the latest eval scores, per task class and model (the quality routing uses). */
  router.get('/v1/evals', requireAdmin(store), async (_request, response) => {
    const scores = await readEvalScores(client);
    response.json({
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
    });
  });

  /**
   * `GET /v1/budgets` (admin key): every configured budget's current period
   * as its ledger holds it: limit, spent, unsettled (charged at worst case),
   * reserved by attempts in flight, available, and whether it is low.
   */
  router.get('/v1/budgets', requireAdmin(store), async (_request, response) => {
    const budgets = store.loaded.config.budgets;
    const views = await readBudgets(client, budgets, Date.now());
    response.json({
      object: 'list',
      data: views.map((view) => {
        const budget = budgets[view.name];
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
    });
  });

  router.get('/v1/spend', requireAdmin(store), async (request, response) => {
    const now = Date.now();
    const since = parseSince(request.query.since, now);
    const until = request.query.until === undefined ? new Date(now) : parseTime(request.query.until, 'until');
    const tenant = typeof request.query.tenant === 'string' && request.query.tenant !== '' ? request.query.tenant : undefined;
    if (tenant !== undefined && !/^[A-Za-z0-9_.-]{1,64}$/.test(tenant)) {
      throw new HttpError(400, 'invalid_request_error', 'tenant: letters, digits, _ . or -', { param: 'tenant' });
    }
    const query = [
      "WorkflowType = 'llmRequestWorkflow'",
      `CloseTime >= '${since.toISOString()}'`,
      `CloseTime < '${until.toISOString()}'`,
      ...(tenant === undefined ? [] : [`Tenant = '${tenant}'`]),
    ].join(' AND ');

    const rows = new Map<string, Cell & { day: string; tenant: string; feature: string; model: string }>();
    const cell = (day: string, tenantId: string, feature: string, model: string) => {
      const key = JSON.stringify([day, tenantId, feature, model]);
      let row = rows.get(key);
      if (row === undefined) {
        row = { day, tenant: tenantId, feature, model, requests: 0, successful: 0, costUsd: 0 };
        rows.set(key, row);
      }
      return row;
    };
    let read = 0;
    for await (const execution of client.workflow.list({ query, pageSize: 1_000 })) {
      if (++read > MAX_WORKFLOWS) break;
      const attributes = execution.searchAttributes as Record<string, unknown[] | undefined>;
      const first = (name: string) => attributes[name]?.[0];
      const day = (execution.closeTime ?? execution.startTime).toISOString().slice(0, 10);
      const tenantId = String(first('Tenant') ?? 'unknown');
      const feature = String(first('Feature') ?? 'none');
      const model = String(first('Model') ?? 'none');
      const answered = cell(day, tenantId, feature, model);
      answered.requests += 1;
      if (first('Outcome') === 'success') answered.successful += 1;
      const byModel = (execution.memo as { costByModel?: Record<string, unknown> } | undefined)?.costByModel;
      if (byModel !== undefined) {
        for (const [costModel, usd] of Object.entries(byModel)) {
          if (typeof usd === 'number') cell(day, tenantId, feature, costModel).costUsd += usd;
        }
      } else {
        const usd = first('CostUsd');
        if (typeof usd === 'number') answered.costUsd += usd;
      }
    }

    const all = [...rows.values()].sort((a, b) => a.day.localeCompare(b.day) || a.tenant.localeCompare(b.tenant) || a.feature.localeCompare(b.feature) || a.model.localeCompare(b.model));
    const by = (dimension: 'tenant' | 'feature' | 'model' | 'day') => {
      const groups = new Map<string, Cell>();
      for (const row of all) {
        const group = groups.get(row[dimension]) ?? { requests: 0, successful: 0, costUsd: 0 };
        group.requests += row.requests;
        group.successful += row.successful;
        group.costUsd += row.costUsd;
        groups.set(row[dimension], group);
      }
      return [...groups.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([name, group]) => ({ [dimension]: name, ...figures(group) }));
    };
    const total = all.reduce((sum, row) => ({ requests: sum.requests + row.requests, successful: sum.successful + row.successful, costUsd: sum.costUsd + row.costUsd }), {
      requests: 0,
      successful: 0,
      costUsd: 0,
    });
    response.json({
      since: since.toISOString(),
      until: until.toISOString(),
      ...(tenant === undefined ? {} : { tenant }),
      truncated: read > MAX_WORKFLOWS,
      totals: figures(total),
      by_tenant: by('tenant'),
      by_feature: by('feature'),
      by_model: by('model'),
      by_day: by('day'),
      rows: all.map((row) => ({ day: row.day, tenant: row.tenant, feature: row.feature, model: row.model, ...figures(row) })),
      currency: 'USD',
    });
  });
  return router;
}

function figures(cell: Cell) {
  return {
    requests: cell.requests,
    successful: cell.successful,
    cost_usd: roundUsd(cell.costUsd),
    cost_per_successful_request_usd: cell.successful === 0 ? null : roundUsd(cell.costUsd / cell.successful),
  };
}

function parseSince(value: unknown, now: number): Date {
  if (value === undefined) return new Date(now - 24 * 3_600_000);
  const since = typeof value === 'string' ? parseSinceText(value, now) : undefined;
  return since ?? parseTime(value, 'since');
}

function parseTime(value: unknown, param: string): Date {
  const time = typeof value === 'string' ? Date.parse(value) : Number.NaN;
  if (Number.isNaN(time)) {
    throw new HttpError(400, 'invalid_request_error', `${param}: a duration like 24h, 7d or 30m, or an ISO time`, { param });
  }
  return new Date(time);
}
