import type { Client } from '@temporalio/client';
import type { DataConverter, Payload } from '@temporalio/common';
import { assessRequest } from '../services/prompt/assess-request';
import { buildRoutingSnapshot } from '../services/routing-snapshot';
import { own } from '../common/own';
import { costOfUsage, roundUsd } from '../common/pricing';
import type { CanonicalRequest } from '../common/request-schema';
import type { CanonicalResponse } from '../common/response-schema';
import type { RoutingSnapshot } from '../common/routing-snapshot-schema';
import { decodeHistoryPayload } from '../runtime/data-converter';
import type { LoadedConfig } from '../runtime/load-config';
import type { DeliveryOptions } from '../workflows/llm-request-workflow';
import { planRoute } from '../workflows/plan-route';

/** One finished request as its history recorded it. */
export interface RecordedRequest {
  workflowId: string;
  request: CanonicalRequest;
  delivery: DeliveryOptions;
  snapshot: RoutingSnapshot;
  /** The response, when the workflow completed with one. */
  response?: CanonicalResponse;
}

/** What one request would have done under the draft. */
export interface RequestChange {
  workflowId: string;
  tenant: string;
  /** The model that answered (or `fallback`, or `none` for a request that failed). */
  before: string;
  /** The draft's first choice, or `none` (no candidate) or `refused`. */
  after: string;
  costBeforeUsd: number;
  /** The answer's usage at the draft's first choice's prices. */
  costAfterUsd: number;
  /** Why the request's model moved: its rejection under the draft, or the draft's ordering. */
  reason: string;
  /** The answering model would not be tried at all under the draft. */
  moved: boolean;
  /** Every model the draft would leave out of this request, with why. */
  rejected: { model: string; reason: string }[];
  /** The answering model is not approved for the request's data under the draft. */
  sensitivityViolationPrevented: boolean;
}

export interface WhatIfReport {
  draftVersion: string;
  since: string;
  requests: number;
  changed: number;
  /** Requests whose answering model would no longer be tried at all. */
  moved: number;
  refused: number;
  /** Requests no model of the draft could serve. */
  unserved: number;
  sensitivityViolationsPrevented: number;
  costBeforeUsd: number;
  costAfterUsd: number;
  /** `from → to` counts. */
  shifts: { from: string; to: string; requests: number; costBeforeUsd: number; costAfterUsd: number }[];
  /** The changed requests (the first 100). */
  changes: RequestChange[];
}

/**
 * Re-runs the pure routing function over recorded requests with a draft
 * config: each request's own routing snapshot (health, breakers, budgets,
 * measured quality as they were) with the draft's policy in place of the
 * recorded one, and the request assessed under the draft (its tenant
 * defaults). Pure: the same records and draft give the same report.
 */
export function whatIf(records: readonly RecordedRequest[], draft: LoadedConfig, since: string): WhatIfReport {
  const policy = buildRoutingSnapshot(draft);
  const changes: RequestChange[] = [];
  let costBeforeUsd = 0;
  let costAfterUsd = 0;
  let refused = 0;
  let unserved = 0;
  for (const record of records) {
    const { request, snapshot, response } = record;
    const snapshotUnderDraft: RoutingSnapshot = {
      ...policy,
      ...(snapshot.observed === undefined ? {} : { observed: snapshot.observed }),
      ...(snapshot.breakers === undefined ? {} : { breakers: snapshot.breakers }),
      ...(snapshot.budgets === undefined ? {} : { budgets: snapshot.budgets }),
      ...(snapshot.measuredQuality === undefined ? {} : { measuredQuality: snapshot.measuredQuality }),
      assessment: assessRequest(request, draft.config),
    };
    const plan = planRoute(request, snapshotUnderDraft, { streaming: record.delivery.streamTaskQueue !== undefined });
    const before = response?.model ?? 'none';
    const after = plan.refused !== undefined ? 'refused' : (plan.candidates[0]?.model ?? 'none');
    const usage = response?.outcome === 'success' ? response.usage : undefined;
    const before$ = response?.costUsd ?? 0;
    const after$ =
      after === before ? before$ : usage === undefined ? 0 : costOfUsage(usage, own(draft.config.models, after)?.pricing);
    costBeforeUsd += before$;
    costAfterUsd += after$;
    if (after === 'refused') refused += 1;
    if (after === 'none') unserved += 1;
    if (after === before) continue;
    const rejection = plan.rejected.find((model) => model.model === before);
    const stillTried = plan.candidates.some((candidate) => candidate.model === before);
    changes.push({
      workflowId: record.workflowId,
      tenant: request.tenantId,
      before,
      after,
      costBeforeUsd: before$,
      costAfterUsd: roundUsd(after$),
      reason:
        plan.refused ??
        (rejection ? `${before}: ${rejection.reason}` : !stillTried && own(draft.config.models, before) === undefined && before !== 'fallback' && before !== 'none' ? `${before} is not in the draft` : `${after} now ranks first`),
      moved: !stillTried,
      rejected: plan.rejected.map((model) => ({ model: model.model, reason: model.reason })),
      sensitivityViolationPrevented: rejection?.reason.startsWith('not approved for') === true,
    });
  }
  const shifts = new Map<string, WhatIfReport['shifts'][number]>();
  for (const change of changes) {
    const key = `${change.before}\u0000${change.after}`;
    const shift = shifts.get(key) ?? { from: change.before, to: change.after, requests: 0, costBeforeUsd: 0, costAfterUsd: 0 };
    shift.requests += 1;
    shift.costBeforeUsd = roundUsd(shift.costBeforeUsd + change.costBeforeUsd);
    shift.costAfterUsd = roundUsd(shift.costAfterUsd + change.costAfterUsd);
    shifts.set(key, shift);
  }
  return {
    draftVersion: draft.version,
    since,
    requests: records.length,
    changed: changes.length,
    moved: changes.filter((change) => change.moved).length,
    refused,
    unserved,
    sensitivityViolationsPrevented: changes.filter((change) => change.sensitivityViolationPrevented).length,
    costBeforeUsd: roundUsd(costBeforeUsd),
    costAfterUsd: roundUsd(costAfterUsd),
    shifts: [...shifts.values()].sort((left, right) => right.requests - left.requests || left.from.localeCompare(right.from)),
    changes: changes.slice(0, 100),
  };
}

/**
 * The finished request workflows since `since`, each with its request, its
 * routing snapshot (in its input, or the first local activity's result) and its response,
 * decoded with the process's data converter (encrypted histories included).
 */
export async function readRecordedRequests(
  client: Client,
  options: { since: Date; limit: number; dataConverter?: DataConverter },
): Promise<RecordedRequest[]> {
  const decode = <T>(payload: Payload | undefined) => decodeHistoryPayload<T>(payload, options.dataConverter);
  const records: RecordedRequest[] = [];
  const query = `WorkflowType = 'llmRequestWorkflow' AND CloseTime >= '${options.since.toISOString()}'`;
  for await (const execution of client.workflow.list({ query, pageSize: 200 })) {
    if (records.length >= options.limit) break;
    const history = await client.workflow.getHandle(execution.workflowId, execution.runId).fetchHistory();
    const events = history.events ?? [];
    const input = events[0]?.workflowExecutionStartedEventAttributes?.input?.payloads ?? [];
    const request = await decode<CanonicalRequest>(input[0] as Payload | undefined);
    const delivery = (await decode<DeliveryOptions>(input[1] as Payload | undefined)) ?? {};
    // An embedded API hands the workflow its snapshot in the input; else the first local activity took it.
    const marker = events.find((event) => event.markerRecordedEventAttributes?.details?.result)?.markerRecordedEventAttributes;
    const snapshot = delivery.snapshot ?? (await decode<RoutingSnapshot>(marker?.details?.result?.payloads?.[0] as Payload | undefined));
    const completed = events.find((event) => event.workflowExecutionCompletedEventAttributes)?.workflowExecutionCompletedEventAttributes;
    const response = await decode<CanonicalResponse>(completed?.result?.payloads?.[0] as Payload | undefined);
    if (request === undefined || snapshot === undefined) continue;
    records.push({ workflowId: execution.workflowId, request, delivery, snapshot, ...(response === undefined ? {} : { response }) });
  }
  return records;
}

/** The report as text: the totals, the shifts between models, and the changed requests. */
export function formatWhatIf(report: WhatIfReport): string {
  const lines = [
    `draft ${report.draftVersion} over ${report.requests} requests since ${report.since}`,
    `  changed: ${report.changed} (moved off their model: ${report.moved}; refused: ${report.refused}; unserved: ${report.unserved})`,
    `  sensitivity violations prevented: ${report.sensitivityViolationsPrevented}`,
    `  cost: ${report.costBeforeUsd} USD recorded -> ${report.costAfterUsd} USD estimated`,
  ];
  if (report.shifts.length > 0) {
    lines.push('', 'from -> to                              requests  cost before   cost after');
    for (const shift of report.shifts) {
      lines.push(`${`${shift.from} -> ${shift.to}`.padEnd(40)}${String(shift.requests).padStart(8)}  ${String(shift.costBeforeUsd).padStart(11)}  ${String(shift.costAfterUsd).padStart(11)}`);
    }
    lines.push('', 'changed requests (first 100):');
    for (const change of report.changes) lines.push(`  ${change.workflowId}  ${change.before} -> ${change.after}: ${change.reason}`);
  }
  return `${lines.join('\n')}\n`;
}
