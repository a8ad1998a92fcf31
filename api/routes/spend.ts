import { Router } from 'express';
import type { Client } from '@temporalio/client';
import { readBudgets } from '../../services/budget-board';
import { readEvalScores } from '../../services/quality-board';
import { parseSinceText } from '../../common/time-window';
import type { ConfigStore } from '../../services/config-store';
import { HttpError } from '../../dialects/http-error';
import { requireAdmin } from './admin';
import { requireReachableTemporal } from '../../client/temporal-unavailable';
import { readSpend } from '../../services/spend-report';
import { toBudgetList, toEvalScoreList, toSpendReport } from '../../dialects/gateway-resources';

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
  router.get('/v1/evals', requireAdmin(store), requireReachableTemporal(client, 'the eval scores'), async (_request, response) => {
    response.json(toEvalScoreList(await readEvalScores(client)));
  });

  /**
   * `GET /v1/budgets` (admin key): every configured budget's current period
   * as its ledger holds it: limit, spent, unsettled (charged at worst case),
   * reserved by attempts in flight, available, and whether it is low.
   */
  router.get('/v1/budgets', requireAdmin(store), requireReachableTemporal(client, 'the budgets'), async (_request, response) => {
    const budgets = store.loaded.config.budgets;
    response.json(toBudgetList(await readBudgets(client, budgets, Date.now()), budgets));
  });

  router.get('/v1/spend', requireAdmin(store), requireReachableTemporal(client, 'the spend report'), async (request, response) => {
    const now = Date.now();
    const since = parseSince(request.query.since, now);
    const until = request.query.until === undefined ? new Date(now) : parseTime(request.query.until, 'until');
    const tenant = typeof request.query.tenant === 'string' && request.query.tenant !== '' ? request.query.tenant : undefined;
    if (tenant !== undefined && !/^[A-Za-z0-9_.-]{1,64}$/.test(tenant)) {
      throw new HttpError(400, 'invalid_request_error', 'tenant: letters, digits, _ . or -', { param: 'tenant' });
    }
    response.json(toSpendReport(await readSpend(client, { since, until, ...(tenant === undefined ? {} : { tenant }) })));
  });
  return router;
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
