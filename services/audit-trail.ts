import type { Client } from '@temporalio/client';
import {
  AUDIT_LOG_WORKFLOW_ID,
  appendAuditSignal,
  auditEventsQuery,
  auditLogWorkflow,
  type AuditEvent,
  type AuditQuery,
} from '../workflows/audit/audit-log-workflow';

/** How often pending events are sent (one signal for all of them). */
const FLUSH_INTERVAL_MS = 500;
/** The same repeated event (same kind and subject) is recorded once per this window. */
const REPEAT_WINDOW_MS = 60_000;

/**
 * This process's side of the audit trail: every event is written as a JSON
 * log line at once and appended, batched, to the shared audit-log workflow.
 * Repeats (a provider rejecting its key on every call) are recorded once a
 * minute per subject.
 */
export class AuditTrail {
  private pending: AuditEvent[] = [];
  private readonly lastSeen = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly client: Client,
    private readonly taskQueue: string,
  ) {}

  start(): void {
    this.timer ??= setInterval(() => void this.flush(), FLUSH_INTERVAL_MS);
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.flush();
  }

  /** Records an event; `subject` names what it is about, for repeat suppression. */
  record(event: Record<string, unknown> & { audit: string }, subject?: string): void {
    if (subject !== undefined) {
      const key = `${event.audit}\n${subject}`;
      const last = this.lastSeen.get(key);
      if (last !== undefined && Date.now() - last < REPEAT_WINDOW_MS) return;
      this.lastSeen.set(key, Date.now());
    }
    const stamped: AuditEvent = { time: new Date().toISOString(), ...event };
    process.stderr.write(`${JSON.stringify({ level: 'info', ...stamped })}\n`);
    this.pending.push(stamped);
  }

  /** Reads the trail, newest first. */
  query(query: AuditQuery): Promise<AuditEvent[]> {
    return this.client.workflow.getHandle(AUDIT_LOG_WORKFLOW_ID).query(auditEventsQuery, query);
  }

  async flush(): Promise<void> {
    if (this.pending.length === 0) return;
    const batch = this.pending;
    this.pending = [];
    try {
      await this.client.workflow.signalWithStart(auditLogWorkflow, {
        workflowId: AUDIT_LOG_WORKFLOW_ID,
        taskQueue: this.taskQueue,
        args: [{}],
        signal: appendAuditSignal,
        signalArgs: [batch],
        staticSummary: 'audit trail of the gateway',
      });
    } catch (error) {
      this.pending = [...batch, ...this.pending].slice(-1_000);
      process.stderr.write(`${JSON.stringify({ level: 'warn', msg: 'audit events not sent yet', error: String(error) })}\n`);
    }
  }
}
