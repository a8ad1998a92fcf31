// Runs in the workflow sandbox: deterministic, no I/O.
import {
  ApplicationFailure,
  allHandlersFinished,
  condition,
  continueAsNew,
  defineQuery,
  defineSignal,
  defineUpdate,
  patched,
  setCurrentDetails,
  setHandler,
  upsertMemo,
  workflowInfo,
} from '@temporalio/workflow';
import type { BreakerSettings } from '../../common/config-schema';
import {
  acquireProbe,
  applyOutcome,
  coolDownMs,
  effectiveMode,
  force,
  initialBreakerState,
  nextWake,
  tick,
  totals,
  type AuditEntry,
  type BreakerMode,
  type RecordedBreakerOutcome,
  type BreakerState,
  type ForcedMode,
  type ModelHealth,
  type Transition,
} from './breaker-state';
import { reportBreakerChange } from '../telemetry';

/** Events after which the breaker continues as new, so its history stays short to replay. */
const HISTORY_EVENTS_LIMIT = 2_000;
/** The breaker publishes its routing view in its memo (read with describe, no workflow task). */
const ROUTING_MEMO_PATCH = 'breaker-routing-memo';
/** Models' health changes with every batch: it is republished at most this often; a change of mode at once. */
const HEALTH_MEMO_INTERVAL_MS = 5_000;
/** The memo key holding the routing view. */
export const BREAKER_MEMO_KEY = 'breaker';

/** What workers send: their settings for this provider and a batch of outcomes. */
export interface OutcomeBatch {
  settings: BreakerSettings;
  outcomes: RecordedBreakerOutcome[];
}

export interface ForceInput {
  mode: ForcedMode | 'auto';
  /** Who switched it (shown in the audit trail). */
  actor: string;
  reason: string;
}

/** A breaker as ops and workers read it. */
export interface BreakerView {
  key: string;
  /** What routing obeys: the forced mode if any, else the automatic one. */
  mode: BreakerMode;
  automaticMode: BreakerMode;
  forced: ForcedMode | null;
  reason: string | null;
  openUntil: number | null;
  consecutiveFailures: number;
  window: { successes: number; failures: number };
  openings: number;
  /** The cool-down the next opening would get. */
  nextCoolDownMs: number;
  probesInFlight: number;
  /** Probe permits handed out since the breaker began: a count that only grows. */
  probesGranted: number;
  lastTransition: Transition | null;
  transitions: number;
  models: Record<string, ModelHealth>;
  audit: AuditEntry[];
  settings: BreakerSettings;
}

/**
 * What routing needs of a breaker, published in the workflow's memo whenever
 * it changes (health at most every few seconds), so every process reads it
 * with a describe call: no query, no workflow task, however busy the breaker.
 */
export type BreakerRoutingView = Pick<BreakerView, 'key' | 'mode' | 'automaticMode' | 'forced' | 'reason' | 'openUntil' | 'models'>;

export const breakerOutcomesSignal = defineSignal<[OutcomeBatch]>('outcomes');
export const forceBreakerUpdate = defineUpdate<BreakerView, [ForceInput]>('force');
/**
 * A probe-permit request. `notAfter` (epoch ms) is when the asker stops
 * waiting: a permit granted later would hold the probe slot for a whole lease
 * with nobody to probe (a busy breaker answered 1,000 requests of a burst
 * half-open that way), so none is granted past it. Absent in histories
 * recorded before it existed (`[]`): granted as before.
 */
export interface PermitRequest {
  notAfter?: number;
}

export const acquireProbeUpdate = defineUpdate<{ probeId: string | null; mode: BreakerMode }, [PermitRequest]>('acquireProbe');
export const breakerStateQuery = defineQuery<BreakerView>('state');

/** Workflow id of the breaker of `key` (a provider id). */
export function breakerWorkflowId(key: string): string {
  return `breaker-${key}`;
}

/**
 * One provider's circuit breaker, shared by every worker: an entity workflow
 * that receives batched call outcomes (signal), answers its state (query),
 * lets probes through when half-open and takes operators' switches
 * (updates). Its state survives restarts in history; it continues as new
 * before its history grows long.
 */
export async function providerBreakerWorkflow(input: {
  key: string;
  settings: BreakerSettings;
  state?: BreakerState;
  /** Continue as new past this many history events. @default 2000 */
  historyEventsLimit?: number;
}): Promise<void> {
  const historyEventsLimit = input.historyEventsLimit ?? HISTORY_EVENTS_LIMIT;
  let state = input.state ?? initialBreakerState(input.key);
  let settings = input.settings;
  let changed = true;
  // Every new state goes through here: a transition is reported to the worker's metrics once.
  const advance = (next: BreakerState): void => {
    if (next.transitions > state.transitions && next.lastTransition) {
      reportBreakerChange({ provider: input.key, from: next.lastTransition.from, to: next.lastTransition.to });
    }
    state = next;
  };

  setHandler(breakerOutcomesSignal, (batch) => {
    settings = batch.settings;
    for (const outcome of batch.outcomes) advance(applyOutcome(state, outcome, Date.now(), settings));
    changed = true;
  });
  setHandler(
    forceBreakerUpdate,
    (request) => {
      advance(force(state, request.mode, Date.now(), request.actor, request.reason));
      changed = true;
      return view(state, settings);
    },
    {
      validator: (request) => {
        if (!['open', 'closed', 'auto'].includes(request.mode)) {
          throw ApplicationFailure.nonRetryable(`mode must be open, closed or auto, got "${String(request.mode)}"`, 'InvalidRequest');
        }
        if (!request.actor || !request.reason) throw ApplicationFailure.nonRetryable('actor and reason are required', 'InvalidRequest');
      },
    },
  );
  setHandler(acquireProbeUpdate, (request: PermitRequest | undefined) => {
    if (request?.notAfter !== undefined && Date.now() > request.notAfter) {
      return { probeId: null, mode: effectiveMode(tick(state, Date.now(), settings)) };
    }
    const granted = acquireProbe(state, Date.now(), settings);
    advance(granted.state);
    changed = true;
    return { probeId: granted.probeId, mode: effectiveMode(state) };
  });
  setHandler(breakerStateQuery, () => view(tick(state, Date.now(), settings), settings));

  // What the memo holds: the routing view without health, the health, and when health was last published.
  let publishedMode = '';
  let publishedHealth = '';
  let healthPublishedAt = Number.NEGATIVE_INFINITY;
  const healthDueAt = (): number | null =>
    publishedMode !== '' && JSON.stringify(state.models) !== publishedHealth ? healthPublishedAt + HEALTH_MEMO_INTERVAL_MS : null;
  const publish = (): void => {
    const routing = routingView(view(state, settings));
    const mode = JSON.stringify({ ...routing, models: undefined });
    const health = JSON.stringify(routing.models);
    const healthDue = health !== publishedHealth && Date.now() >= healthPublishedAt + HEALTH_MEMO_INTERVAL_MS;
    if (mode === publishedMode && !healthDue) return;
    upsertMemo({ [BREAKER_MEMO_KEY]: routing });
    publishedMode = mode;
    publishedHealth = health;
    healthPublishedAt = Date.now();
  };

  for (;;) {
    const memo = patched(ROUTING_MEMO_PATCH);
    if (memo) publish();
    const wakes = [nextWake(state), memo ? healthDueAt() : null].filter((at): at is number => at !== null);
    const wake = wakes.length === 0 ? null : Math.min(...wakes);
    const wakeUp = () => changed || workflowInfo().continueAsNewSuggested;
    if (wake === null) await condition(wakeUp);
    else await condition(wakeUp, Math.max(1, wake - Date.now()));
    changed = false;
    advance(tick(state, Date.now(), settings));
    setCurrentDetails(describe(view(state, settings)));
    if (workflowInfo().continueAsNewSuggested || workflowInfo().historyLength > historyEventsLimit) {
      await condition(allHandlersFinished);
      await continueAsNew<typeof providerBreakerWorkflow>({ key: input.key, settings, state, historyEventsLimit });
    }
  }
}

function routingView(breaker: BreakerView): BreakerRoutingView {
  const { key, mode, automaticMode, forced, reason, openUntil, models } = breaker;
  return { key, mode, automaticMode, forced, reason, openUntil, models };
}

function view(state: BreakerState, settings: BreakerSettings): BreakerView {
  return {
    key: state.key,
    mode: effectiveMode(state),
    automaticMode: state.mode,
    forced: state.forced,
    reason: state.forced ? (state.lastTransition?.reason ?? null) : state.reason,
    openUntil: state.mode === 'open' ? state.openUntil : null,
    consecutiveFailures: state.consecutiveFailures,
    window: totals(state.buckets),
    openings: state.openings,
    nextCoolDownMs: coolDownMs(state.openings, settings),
    probesInFlight: state.probes.length,
    probesGranted: state.nextProbe - 1,
    lastTransition: state.lastTransition,
    transitions: state.transitions,
    models: state.models,
    audit: state.audit,
    settings,
  };
}

/** Markdown for the breaker's page in the Temporal UI. */
function describe(breaker: BreakerView): string {
  const time = (at: number | null) => (at === null ? '' : new Date(at).toISOString());
  const models = Object.entries(breaker.models).map(
    ([model, health]) => `| ${model} | ${health.successes} | ${health.failures} | ${health.latencyMs ?? ''} |`,
  );
  const audit = breaker.audit.map((entry) => `- ${time(entry.at)} ${entry.actor}: ${entry.action} (${entry.reason})`);
  return [
    `**Breaker** \`${breaker.key}\`: **${breaker.mode}**${breaker.forced ? ' (forced)' : ''}${breaker.reason ? ` · ${breaker.reason}` : ''}`,
    '',
    `open until ${time(breaker.openUntil) || '—'} · failures in a row ${breaker.consecutiveFailures} · window ${breaker.window.successes} ok / ${breaker.window.failures} failed · openings ${breaker.openings} · next cool-down ${breaker.nextCoolDownMs} ms · probes in flight ${breaker.probesInFlight}`,
    '',
    breaker.lastTransition
      ? `last transition ${time(breaker.lastTransition.at)}: ${breaker.lastTransition.from} → ${breaker.lastTransition.to} (${breaker.lastTransition.reason}), ${breaker.transitions} in all`
      : 'no transition yet',
    ...(models.length > 0 ? ['', '| model | ok | failed | latency ms |', '|---|---|---|---|', ...models] : []),
    ...(audit.length > 0 ? ['', '**Switches**', ...audit] : []),
  ].join('\n');
}
