import { WithStartWorkflowOperation, WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { BreakerSettings } from '../common/config-schema';
import { PROVIDER_HEALTH_FAILURE_TYPES } from '../common/failure-types';
import { metrics } from '../runtime/metrics';
import type { BreakerSnapshot } from '../common/routing-snapshot-schema';
import type { BreakerOutcome, ModelHealth } from '../workflows/breaker/breaker-state';
import {
  acquireProbeUpdate,
  BREAKER_MEMO_KEY,
  breakerOutcomesSignal,
  breakerStateQuery,
  breakerWorkflowId,
  forceBreakerUpdate,
  providerBreakerWorkflow,
  type BreakerRoutingView,
  type BreakerView,
  type ForceInput,
} from '../workflows/breaker/provider-breaker-workflow';

/** The visibility query every process reads the breakers with (their memos). */
export const RUNNING_BREAKERS_QUERY = `WorkflowType = '${providerBreakerWorkflow.name}' AND ExecutionStatus = 'Running'`;

/** How often outcomes are sent: one signal per breaker per interval, whatever the load. */
const FLUSH_INTERVAL_MS = 200;
/**
 * Outcomes that change nothing a closed breaker decides — successes, none of
 * them a probe — wait up to this long, so a healthy provider's breaker costs
 * a signal (and a workflow task) every few seconds, not five a second. Any
 * failure sends everything pending, in order, at the next interval.
 */
const QUIET_FLUSH_MS = 5_000;
/** How often each breaker's state is read. */
const REFRESH_INTERVAL_MS = 1_000;
/** Outcomes kept per breaker while Temporal cannot be reached (the oldest go first). */
const MAX_PENDING = 1_000;
/** Longest wait for one breaker's state. */
const QUERY_DEADLINE_MS = 2_000;
/** Longest wait for a probe permit: well under any heartbeat timeout, so waiting never fails an attempt. */
const PERMIT_DEADLINE_MS = 1_000;
/** After a permit is refused, this process asks that breaker again no sooner than this. */
const PERMIT_RETRY_MS = 200;
/**
 * A breaker this process saw fail its threshold of calls in a row is open
 * here at once, for this long, while the shared breaker hears of it: the
 * failures reach its workflow and come back through visibility only at a
 * later refresh, and calls admitted meanwhile would go to a dead provider.
 */
const LOCAL_OPEN_MS = 2 * REFRESH_INTERVAL_MS;
const COUNTED_FAILURES: ReadonlySet<string> = new Set(PROVIDER_HEALTH_FAILURE_TYPES);

/** A breaker's answer to a probe-permit request. */
type PermitReply = { probeId: string | null; mode: BreakerView['mode'] };

export interface BreakerBoardOptions {
  client: Client;
  /** The task queue the breaker workflows run on (the gateway's). */
  taskQueue: string;
  /** The providers with their breaker settings, from the config in force. */
  providers: () => Readonly<Record<string, BreakerSettings>>;
  log?: (line: Record<string, unknown>) => void;
}

/** Whether a call may go to a provider now. */
export type Admission = { admitted: true; probeId?: string } | { admitted: false; reason: string };

/**
 * This process's view of the shared breakers: it batches call outcomes into
 * one signal per breaker every 200 ms (starting the breaker workflow if need
 * be; a closed breaker's successes wait up to 5 s, or until a failure), keeps every breaker's state fresh (the routing view each breaker
 * publishes in its memo, read for all breakers with one visibility list call
 * per second: no query or describe, so a busy breaker is never asked), and admits calls: closed → go;
 * open → fail fast; half-open → go only with a probe permit from the breaker.
 * Permits are asked one at a time per breaker per process, with a deadline:
 * requests arriving meanwhile share the answer, and no answer in time means
 * "not a probe" (skipped like an open breaker), never a failed call. So the
 * load on each breaker is bounded per process, whatever the traffic.
 */
export class BreakerBoard {
  private readonly pending = new Map<string, BreakerOutcome[]>();
  /** When the oldest outcome still pending per breaker was reported. */
  private readonly pendingSince = new Map<string, number>();
  private readonly views = new Map<string, BreakerRoutingView>();
  /** The permit request in flight per breaker, shared by every request that arrives meanwhile. */
  private readonly permits = new Map<string, Promise<PermitReply | undefined>>();
  /** Per breaker: no new permit request before this time (one was just refused). */
  private readonly permitQuietUntil = new Map<string, number>();
  /** Per breaker: this process's counted failures in a row. */
  private readonly failuresInARow = new Map<string, number>();
  /** Per breaker: open here (this process's own failures) until then, whatever a refresh reads before. */
  private readonly openHereUntil = new Map<string, number>();
  private flushTimer: NodeJS.Timeout | undefined;
  private refreshTimer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();

  constructor(private readonly options: BreakerBoardOptions) {}

  start(): void {
    this.flushTimer ??= setInterval(() => void this.flush(), FLUSH_INTERVAL_MS);
    this.refreshTimer ??= setInterval(() => void this.refresh(), REFRESH_INTERVAL_MS);
    void this.refresh();
  }

  /** Sends what is pending and stops. */
  async stop(): Promise<void> {
    clearInterval(this.flushTimer);
    clearInterval(this.refreshTimer);
    this.flushTimer = undefined;
    this.refreshTimer = undefined;
    await this.flush(true);
  }

  /** Queues one call's outcome for the provider's breaker. */
  report(providerId: string, outcome: BreakerOutcome): void {
    // A good probe closes the breaker: this process sends its traffic back at once, the others at their next refresh.
    const view = this.views.get(providerId);
    if (outcome.probeId !== undefined && outcome.ok && view?.mode === 'half_open' && view.forced === null) {
      this.views.set(providerId, { ...view, mode: 'closed' });
      this.permitQuietUntil.delete(providerId);
    }
    this.countHere(providerId, outcome);
    const queue = this.pending.get(providerId) ?? [];
    queue.push(outcome);
    if (queue.length > MAX_PENDING) queue.splice(0, queue.length - MAX_PENDING);
    this.pending.set(providerId, queue);
    if (!this.pendingSince.has(providerId)) this.pendingSince.set(providerId, Date.now());
  }

  /** A closed breaker (not forced) whose threshold of failures in a row this process saw is open here at once, for a while. */
  private countHere(providerId: string, outcome: BreakerOutcome): void {
    if (outcome.ok || !COUNTED_FAILURES.has(outcome.failureType ?? '')) {
      if (outcome.ok) this.failuresInARow.delete(providerId);
      return;
    }
    const failures = (this.failuresInARow.get(providerId) ?? 0) + 1;
    this.failuresInARow.set(providerId, failures);
    const threshold = this.options.providers()[providerId]?.consecutiveFailures;
    const view = this.views.get(providerId) ?? { key: providerId, mode: 'closed', automaticMode: 'closed', forced: null, reason: null, openUntil: null, models: {} };
    if (threshold === undefined || failures < threshold || view.mode !== 'closed' || view.forced !== null) return;
    const until = Date.now() + LOCAL_OPEN_MS;
    this.openHereUntil.set(providerId, until);
    this.failuresInARow.delete(providerId);
    this.views.set(providerId, { ...view, mode: 'open', reason: `${failures} consecutive failures seen by this process; the shared breaker decides`, openUntil: until });
  }

  /** Whether this process holds `providerId`'s breaker open on its own failures (a refresh that reads it closed does not close it yet). */
  private openHere(providerId: string, read: BreakerRoutingView | undefined): boolean {
    const until = this.openHereUntil.get(providerId);
    if (until === undefined) return false;
    if (until <= Date.now() || (read !== undefined && (read.mode !== 'closed' || read.forced !== null))) {
      this.openHereUntil.delete(providerId);
      return false;
    }
    return true;
  }

  /**
   * Whether a call to `providerId` may go now; half-open asks the breaker for
   * a probe permit, waiting at most `deadlineMs` (default 1 s).
   */
  async admit(providerId: string, options: { deadlineMs?: number } = {}): Promise<Admission> {
    const view = this.views.get(providerId);
    if (!view || view.mode === 'closed') return { admitted: true };
    if (view.mode === 'open') return { admitted: false, reason: view.reason ?? 'open' };
    const shared = this.permits.get(providerId);
    if (shared) {
      // Another request of this process asked first: a probe is one call, so only a closed breaker lets this one go.
      const reply = await shared;
      return reply?.mode === 'closed' ? { admitted: true } : { admitted: false, reason: 'half-open, probe in flight' };
    }
    if ((this.permitQuietUntil.get(providerId) ?? 0) > Date.now()) return { admitted: false, reason: 'half-open, probe in flight' };
    const request = this.requestPermit(providerId, Math.min(options.deadlineMs ?? PERMIT_DEADLINE_MS, PERMIT_DEADLINE_MS));
    this.permits.set(providerId, request);
    let reply: PermitReply | undefined;
    try {
      reply = await request;
    } finally {
      this.permits.delete(providerId);
    }
    if (!reply) {
      this.permitQuietUntil.set(providerId, Date.now() + PERMIT_RETRY_MS);
      return { admitted: false, reason: 'half-open, no probe permit in time' };
    }
    // The breaker's own answer is newer than this process's view: keep it until the next refresh.
    this.views.set(providerId, { ...view, mode: reply.mode });
    if (reply.probeId === null) {
      this.permitQuietUntil.set(providerId, Date.now() + PERMIT_RETRY_MS);
      return { admitted: false, reason: reply.mode === 'open' ? 'open' : 'half-open, probe already in flight' };
    }
    return reply.probeId === '' ? { admitted: true } : { admitted: true, probeId: reply.probeId };
  }

  /** One probe-permit update, bounded by `deadlineMs`; undefined when not granted in time or on error. */
  private async requestPermit(providerId: string, deadlineMs: number): Promise<PermitReply | undefined> {
    try {
      const handle = this.options.client.workflow.getHandle(breakerWorkflowId(providerId));
      const notAfter = Date.now() + deadlineMs;
      return await this.options.client.withDeadline(notAfter, () => handle.executeUpdate(acquireProbeUpdate, { args: [{ notAfter }] }));
    } catch (error) {
      this.options.log?.({ level: 'info', msg: 'breaker probe permit not granted in time; not a probe', provider: providerId, error: String(error) });
      return undefined;
    }
  }

  /** Breaker states for the routing snapshot. */
  snapshot(): Record<string, BreakerSnapshot> {
    const breakers: Record<string, BreakerSnapshot> = {};
    for (const [providerId, view] of [...this.views.entries()].sort(([left], [right]) => left.localeCompare(right))) {
      breakers[providerId] = { mode: view.mode, reason: view.reason, openUntil: view.openUntil };
    }
    return breakers;
  }

  /** Every model's health as the breakers saw it (shared by every worker). */
  health(): Record<string, ModelHealth> {
    const health: Record<string, ModelHealth> = {};
    for (const view of this.views.values()) Object.assign(health, view.models);
    return Object.fromEntries(Object.entries(health).sort(([left], [right]) => left.localeCompare(right)));
  }

  /** The last state read of every breaker. */
  list(): BreakerRoutingView[] {
    return [...this.views.values()].sort((left, right) => left.key.localeCompare(right.key));
  }

  /** Every configured provider's breaker in full (its query: for operators, not the request path); absent ones never started. */
  async readAll(): Promise<(BreakerView | BreakerRoutingView)[]> {
    const views = await Promise.all(
      Object.keys(this.options.providers()).map(async (providerId) => {
        try {
          return await this.query(providerId);
        } catch (error) {
          this.options.log?.({ level: 'warn', msg: 'breaker state unreadable', provider: providerId, error: String(error) });
          return this.views.get(providerId);
        }
      }),
    );
    return views.filter((view): view is BreakerView | BreakerRoutingView => view !== undefined);
  }

  /**
   * Reads every configured provider's breaker now: the routing views the
   * running breakers published in their memos, all in one visibility list
   * call (which never takes a breaker's workflow lock: a describe per breaker
   * per process per second made a busy breaker answer "Workflow is busy" to
   * its own signals and permits), or a breaker's query while it has published
   * none. A breaker not running (never started, or ended by hand) is closed.
   */
  async refresh(): Promise<void> {
    const providers = Object.keys(this.options.providers());
    let running: Map<string, BreakerRoutingView | undefined>;
    try {
      running = await this.options.client.withDeadline(Date.now() + QUERY_DEADLINE_MS, () => this.listRunning());
    } catch (error) {
      this.options.log?.({ level: 'warn', msg: 'breaker state unreadable', error: String(error) });
      return;
    }
    await Promise.all(
      providers.map(async (providerId) => {
        if (!running.has(providerId)) {
          if (!this.openHere(providerId, undefined)) this.views.delete(providerId);
          return;
        }
        try {
          const view = running.get(providerId) ?? (await this.query(providerId));
          if (view && !this.openHere(providerId, view)) this.views.set(providerId, view);
        } catch (error) {
          this.options.log?.({ level: 'warn', msg: 'breaker state unreadable', provider: providerId, error: String(error) });
        }
      }),
    );
    for (const providerId of this.views.keys()) if (!providers.includes(providerId)) this.views.delete(providerId);
    for (const providerId of providers) {
      const mode = this.views.get(providerId)?.mode ?? 'closed';
      for (const state of ['closed', 'open', 'half_open'] as const) metrics.breakerState.set({ provider: providerId, state }, state === mode ? 1 : 0);
    }
  }

  /** The running breakers (their ids are the namespace's: `breaker-<provider>`), by provider, with the routing view each published (if any). */
  private async listRunning(): Promise<Map<string, BreakerRoutingView | undefined>> {
    const query = RUNNING_BREAKERS_QUERY;
    const running = new Map<string, BreakerRoutingView | undefined>();
    const prefix = breakerWorkflowId('');
    for await (const execution of this.options.client.workflow.list({ query, pageSize: 1_000 })) {
      if (!execution.workflowId.startsWith(prefix)) continue;
      running.set(execution.workflowId.slice(prefix.length), execution.memo?.[BREAKER_MEMO_KEY] as BreakerRoutingView | undefined);
    }
    return running;
  }

  /** One breaker's full state by its query; undefined when it never started. */
  private async query(providerId: string): Promise<BreakerView | undefined> {
    try {
      const handle = this.options.client.workflow.getHandle(breakerWorkflowId(providerId));
      return await this.options.client.withDeadline(Date.now() + QUERY_DEADLINE_MS, () => handle.query(breakerStateQuery));
    } catch (error) {
      if (error instanceof WorkflowNotFoundError) return undefined;
      throw error;
    }
  }

  /** Records a state just learnt (an operator's switch), without waiting for the next refresh. */
  remember(view: BreakerView): void {
    this.views.set(view.key, view);
  }

  /** Sends the pending batches that are due (all of them with `everything`), one signal per breaker. */
  flush(everything = false): Promise<void> {
    this.flushing = this.flushing.then(() => this.sendPending(everything));
    return this.flushing;
  }

  /** A batch goes now unless it is only successes (no probe) for a breaker seen closed, and younger than the quiet interval. */
  private due(providerId: string, outcomes: readonly BreakerOutcome[], now: number): boolean {
    if (this.views.get(providerId)?.mode !== 'closed') return true;
    if (outcomes.some((outcome) => !outcome.ok || outcome.probeId !== undefined)) return true;
    return now - (this.pendingSince.get(providerId) ?? 0) >= QUIET_FLUSH_MS;
  }

  private async sendPending(everything: boolean): Promise<void> {
    const settings = this.options.providers();
    const now = Date.now();
    const batches = [...this.pending.entries()].filter(([providerId, outcomes]) => outcomes.length > 0 && (everything || this.due(providerId, outcomes, now)));
    for (const [providerId] of batches) {
      this.pending.delete(providerId);
      this.pendingSince.delete(providerId);
    }
    await Promise.all(
      batches.map(async ([providerId, outcomes]) => {
        const providerSettings = settings[providerId];
        if (!providerSettings) return;
        try {
          await this.options.client.workflow.signalWithStart(providerBreakerWorkflow, {
            workflowId: breakerWorkflowId(providerId),
            taskQueue: this.options.taskQueue,
            args: [{ key: providerId, settings: providerSettings }],
            signal: breakerOutcomesSignal,
            signalArgs: [{ settings: providerSettings, outcomes }],
            staticSummary: `circuit breaker of provider ${providerId}`,
          });
        } catch (error) {
          // Keep them for the next interval.
          const queue = [...outcomes, ...(this.pending.get(providerId) ?? [])].slice(-MAX_PENDING);
          this.pending.set(providerId, queue);
          this.pendingSince.set(providerId, Math.min(now, this.pendingSince.get(providerId) ?? now));
          this.options.log?.({ level: 'warn', msg: 'breaker outcomes not sent', provider: providerId, error: String(error) });
        }
      }),
    );
  }
}

/**
 * Forces a provider's breaker open (drain) or closed, or back to automatic,
 * starting the breaker workflow if it has never run. Used by the admin API and
 * the CLI; the Temporal CLI can send the same `force` update.
 */
export async function forceBreaker(
  client: Client,
  options: { taskQueue: string; providerId: string; settings: BreakerSettings; input: ForceInput },
): Promise<BreakerView> {
  // One update-with-start, as the budgets do: a start's handle would name the running run as its
  // chain's first, and once the breaker has continued as new the server answers it "workflow not found".
  return client.workflow.executeUpdateWithStart(forceBreakerUpdate, {
    args: [options.input],
    startWorkflowOperation: new WithStartWorkflowOperation(providerBreakerWorkflow, {
      workflowId: breakerWorkflowId(options.providerId),
      taskQueue: options.taskQueue,
      args: [{ key: options.providerId, settings: options.settings }],
      workflowIdConflictPolicy: 'USE_EXISTING',
      staticSummary: `circuit breaker of provider ${options.providerId}`,
    }),
  });
}
