// Runs in the workflow sandbox: deterministic, no I/O.
import { allHandlersFinished, condition, continueAsNew, defineQuery, defineSignal, setHandler, workflowInfo } from '@temporalio/workflow';

/** One audit event: what happened, when, and its facts (never a secret). */
export interface AuditEvent {
  /** e.g. `config_changed`, `breaker_forced`, `provider_access_denied`. */
  audit: string;
  /** ISO time the event happened (set by the process that saw it). */
  time: string;
  [fact: string]: unknown;
}

export interface AuditQuery {
  /** Only events of this kind. */
  audit?: string;
  /** At most this many, newest first. @default 100 */
  limit?: number;
}

export const AUDIT_LOG_WORKFLOW_ID = 'switchyard-audit-log';
/** Events kept queryable; every event stays in the workflow's history chain regardless. */
const KEPT_EVENTS = 2_000;
const HISTORY_EVENTS_LIMIT = 2_000;

export const appendAuditSignal = defineSignal<[AuditEvent[]]>('append');
export const auditEventsQuery = defineQuery<AuditEvent[], [AuditQuery]>('events');

/**
 * The gateway's audit trail: one entity workflow every process appends to
 * (batched signals), read through a query. Durable in Temporal's history and
 * shared by every API and worker process.
 */
export async function auditLogWorkflow(input: { events?: AuditEvent[] } = {}): Promise<void> {
  let events = input.events ?? [];
  let appended = false;
  setHandler(appendAuditSignal, (batch) => {
    events = [...events, ...batch].slice(-KEPT_EVENTS);
    appended = true;
  });
  setHandler(auditEventsQuery, (query) => {
    const matching = query.audit === undefined ? events : events.filter((event) => event.audit === query.audit);
    return matching.slice(-(query.limit ?? 100)).reverse();
  });
  for (;;) {
    await condition(() => appended || workflowInfo().continueAsNewSuggested);
    appended = false;
    if (workflowInfo().continueAsNewSuggested || workflowInfo().historyLength > HISTORY_EVENTS_LIMIT) {
      await condition(allHandlersFinished);
      await continueAsNew<typeof auditLogWorkflow>({ events });
    }
  }
}
