// What the breaker workflows received in a time window, read from their
// histories (every run: a breaker continues as new): the signals and probe
// permit updates each process sent (by the sender's identity, pid@host), the
// permits granted, and history events per second.
import os from 'node:os';
import type { Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { summarize } from './load';

const EventType = temporal.api.enums.v1.EventType;
const { TimeoutType, TaskQueueKind } = temporal.api.enums.v1;

export interface BreakerLoad {
  workflowId: string;
  /** Runs that had events in the window (more than one: it continued as new). */
  runs: number;
  events: number;
  eventsPerSecond: number;
  /** Event counts by type (`WorkflowExecutionSignaled`, …). */
  eventTypes: Record<string, number>;
  /** Outcome-batch signals per sending process. */
  signals: Record<string, number>;
  /** Outcomes those signals carried, and how many were probes' outcomes. */
  outcomes: number;
  /** Bytes of those signals' payloads (what they add to history). */
  signalBytes: number;
  probeOutcomes: number;
  /** Probe-permit updates accepted per sending process. */
  permitUpdates: Record<string, number>;
  /** Permits granted (a probe id returned) among the completed ones. */
  permitsGranted: number;
  /** Each permit granted: to which process, when (epoch ms), and whether its probe's outcome ever came back. */
  grants: { process: string; probeId: string; at: number; probed: boolean }[];
  /**
   * How long the breaker's workflow tasks waited for a worker (scheduled →
   * started), by queue: `normal` is the gateway's task queue, shared with
   * every request's tasks; `sticky` the worker that last ran it.
   */
  workflowTaskWaitMs: Record<string, { count: number; p50: number; p95: number; max: number }>;
  /** Workflow tasks that timed out, by timeout type. */
  workflowTaskTimeouts: Record<string, number>;
}

type Payload = temporal.api.common.v1.IPayload;

/** A JSON payload's value; undefined for another encoding (encrypted, say). */
function decode(payload: Payload | null | undefined): unknown {
  const encoding = payload?.metadata?.encoding ? Buffer.from(payload.metadata.encoding).toString('utf8') : '';
  if (encoding !== 'json/plain' || !payload?.data) return undefined;
  try {
    return JSON.parse(Buffer.from(payload.data).toString('utf8')) as unknown;
  } catch {
    return undefined;
  }
}

const millis = (time: temporal.api.history.v1.IHistoryEvent['eventTime']): number =>
  Number(time?.seconds ?? 0) * 1000 + Math.floor((time?.nanos ?? 0) / 1e6);

/**
 * Every run of each breaker workflow (by visibility), its events between
 * `from` and `to` (epoch ms), counted. `processes` names a sender by its pid
 * (the SDK's default client identity is `<pid>@<hostname>`); others show by identity.
 */
export async function readBreakerLoad(
  client: Client,
  workflowIds: readonly string[],
  window: { from: number; to: number },
  processes: ReadonlyMap<number, string>,
): Promise<BreakerLoad[]> {
  const host = os.hostname();
  const nameOf = (identity: string | null | undefined) => {
    const pid = Number(identity?.endsWith(`@${host}`) ? identity.split('@')[0] : NaN);
    return processes.get(pid) ?? identity ?? 'unknown';
  };
  const seconds = Math.max(0.001, (window.to - window.from) / 1000);
  const loads: BreakerLoad[] = [];
  for (const workflowId of workflowIds) {
    const load: BreakerLoad = {
      workflowId,
      runs: 0,
      events: 0,
      eventsPerSecond: 0,
      eventTypes: {},
      signals: {},
      outcomes: 0,
      signalBytes: 0,
      probeOutcomes: 0,
      permitUpdates: {},
      permitsGranted: 0,
      grants: [],
      workflowTaskWaitMs: {},
      workflowTaskTimeouts: {},
    };
    const waits: Record<string, number[]> = {};
    /** Who asked each update (by update id), and the probe ids whose outcomes came back (by any time). */
    const askers = new Map<string, string>();
    const probed = new Set<string>();
    for await (const execution of client.workflow.list({ query: `WorkflowId = '${workflowId}'` })) {
      if (execution.closeTime && execution.closeTime.getTime() < window.from) continue;
      if (execution.startTime.getTime() > window.to) continue;
      const history = await client.workflow.getHandle(workflowId, execution.runId).fetchHistory();
      let inWindow = 0;
      /** The pending workflow task: when it was scheduled, and on which kind of queue. */
      let scheduled: { at: number; kind: string } | undefined;
      for (const event of history.events ?? []) {
        const at = millis(event.eventTime);
        if (event.workflowTaskScheduledEventAttributes) {
          const kind = TaskQueueKind[event.workflowTaskScheduledEventAttributes.taskQueue?.kind ?? 0] ?? 'unknown';
          scheduled = { at, kind: kind.replace(/^TASK_QUEUE_KIND_/, '').toLowerCase() };
        }
        if (event.workflowTaskStartedEventAttributes && scheduled && at >= window.from && at <= window.to) {
          (waits[scheduled.kind] ??= []).push(at - scheduled.at);
          scheduled = undefined;
        }
        const timedOut = event.workflowTaskTimedOutEventAttributes;
        if (timedOut && at >= window.from && at <= window.to) {
          const type = (TimeoutType[timedOut.timeoutType ?? 0] ?? 'unknown').replace(/^TIMEOUT_TYPE_/, '').toLowerCase();
          load.workflowTaskTimeouts[type] = (load.workflowTaskTimeouts[type] ?? 0) + 1;
        }
        if (at < window.from || at > window.to) continue;
        inWindow += 1;
        const type = EventType[event.eventType ?? 0]?.replace(/^EVENT_TYPE_/, '') ?? String(event.eventType);
        const name = type.toLowerCase().replace(/(^|_)(\w)/g, (_match, _underscore: string, letter: string) => letter.toUpperCase());
        load.eventTypes[name] = (load.eventTypes[name] ?? 0) + 1;
        const signaled = event.workflowExecutionSignaledEventAttributes;
        if (signaled) {
          const sender = nameOf(signaled.identity);
          load.signals[sender] = (load.signals[sender] ?? 0) + 1;
          load.signalBytes += signaled.input?.payloads?.reduce((total, payload) => total + (payload.data?.length ?? 0), 0) ?? 0;
          const batch = decode(signaled.input?.payloads?.[0]) as { outcomes?: { probeId?: string }[] } | undefined;
          load.outcomes += batch?.outcomes?.length ?? 0;
          for (const outcome of batch?.outcomes ?? []) if (outcome.probeId !== undefined) probed.add(outcome.probeId);
          load.probeOutcomes += batch?.outcomes?.filter((outcome) => outcome.probeId !== undefined).length ?? 0;
        }
        const accepted = event.workflowExecutionUpdateAcceptedEventAttributes;
        if (accepted?.acceptedRequest?.input?.name === 'acquireProbe') {
          const sender = nameOf(accepted.acceptedRequest.meta?.identity);
          load.permitUpdates[sender] = (load.permitUpdates[sender] ?? 0) + 1;
          askers.set(accepted.acceptedRequest.meta?.updateId ?? '', sender);
        }
        const completed = event.workflowExecutionUpdateCompletedEventAttributes;
        if (completed) {
          const reply = decode(completed.outcome?.success?.payloads?.[0]) as { probeId?: string | null } | undefined;
          if (typeof reply?.probeId === 'string' && reply.probeId !== '') {
            load.permitsGranted += 1;
            load.grants.push({ process: askers.get(completed.meta?.updateId ?? '') ?? 'unknown', probeId: reply.probeId, at, probed: false });
          }
        }
      }
      if (inWindow > 0) load.runs += 1;
      // A probe's outcome may come after the window: read the whole history for it.
      for (const event of history.events ?? []) {
        const batch = decode(event.workflowExecutionSignaledEventAttributes?.input?.payloads?.[0]) as { outcomes?: { probeId?: string }[] } | undefined;
        for (const outcome of batch?.outcomes ?? []) if (outcome.probeId !== undefined) probed.add(outcome.probeId);
      }
      load.events += inWindow;
    }
    for (const grant of load.grants) grant.probed = probed.has(grant.probeId);
    load.eventsPerSecond = load.events / seconds;
    for (const [kind, values] of Object.entries(waits)) {
      const { count, p50, p95, max } = summarize(values);
      load.workflowTaskWaitMs[kind] = { count, p50, p95, max };
    }
    loads.push(load);
  }
  return loads;
}
