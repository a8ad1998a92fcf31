import type { Client } from '@temporalio/client';

/** Most workflows one report reads from visibility. */
const MAX_WORKFLOWS = 100_000;

/** Requests, successful ones and what they cost, in one group. */
export interface SpendFigures {
  requests: number;
  successful: number;
  costUsd: number;
}

export interface SpendRow extends SpendFigures {
  day: string;
  tenant: string;
  feature: string;
  model: string;
}

export type SpendDimension = 'tenant' | 'feature' | 'model' | 'day';

export interface SpendReport {
  since: Date;
  until: Date;
  tenant?: string;
  /** More request workflows closed in the window than one report reads. */
  truncated: boolean;
  totals: SpendFigures;
  by: Record<SpendDimension, ({ name: string } & SpendFigures)[]>;
  rows: SpendRow[];
}

/**
 * Spend by tenant, feature, model and day of the request workflows closed in
 * [since, until), read from visibility: each carries its tenant, feature,
 * answering model and cost as search attributes, and its cost per model
 * (failed attempts included) in its memo. `tenant` must already be checked
 * (letters, digits, `_ . -`): it is written into the visibility query.
 */
export async function readSpend(client: Client, window: { since: Date; until: Date; tenant?: string }): Promise<SpendReport> {
  const query = [
    "WorkflowType = 'llmRequestWorkflow'",
    `CloseTime >= '${window.since.toISOString()}'`,
    `CloseTime < '${window.until.toISOString()}'`,
    ...(window.tenant === undefined ? [] : [`Tenant = '${window.tenant}'`]),
  ].join(' AND ');

  const rows = new Map<string, SpendRow>();
  const cell = (day: string, tenant: string, feature: string, model: string) => {
    const key = JSON.stringify([day, tenant, feature, model]);
    let row = rows.get(key);
    if (row === undefined) {
      row = { day, tenant, feature, model, requests: 0, successful: 0, costUsd: 0 };
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
    const tenant = String(first('Tenant') ?? 'unknown');
    const feature = String(first('Feature') ?? 'none');
    const model = String(first('Model') ?? 'none');
    const answered = cell(day, tenant, feature, model);
    answered.requests += 1;
    if (first('Outcome') === 'success') answered.successful += 1;
    const byModel = (execution.memo as { costByModel?: Record<string, unknown> } | undefined)?.costByModel;
    if (byModel !== undefined) {
      for (const [costModel, usd] of Object.entries(byModel)) {
        if (typeof usd === 'number') cell(day, tenant, feature, costModel).costUsd += usd;
      }
    } else {
      const usd = first('CostUsd');
      if (typeof usd === 'number') answered.costUsd += usd;
    }
  }

  const all = [...rows.values()].sort((a, b) => a.day.localeCompare(b.day) || a.tenant.localeCompare(b.tenant) || a.feature.localeCompare(b.feature) || a.model.localeCompare(b.model));
  const by = (dimension: SpendDimension) => {
    const groups = new Map<string, SpendFigures>();
    for (const row of all) groups.set(row[dimension], add(groups.get(row[dimension]) ?? none(), row));
    return [...groups.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([name, group]) => ({ name, ...group }));
  };
  return {
    since: window.since,
    until: window.until,
    ...(window.tenant === undefined ? {} : { tenant: window.tenant }),
    truncated: read > MAX_WORKFLOWS,
    totals: all.reduce(add, none()),
    by: { tenant: by('tenant'), feature: by('feature'), model: by('model'), day: by('day') },
    rows: all,
  };
}

function none(): SpendFigures {
  return { requests: 0, successful: 0, costUsd: 0 };
}

function add(sum: SpendFigures, row: SpendFigures): SpendFigures {
  return { requests: sum.requests + row.requests, successful: sum.successful + row.successful, costUsd: sum.costUsd + row.costUsd };
}
