// Runs in the workflow sandbox: deterministic, no I/O.
import type { BreakerSettings } from '../../common/config-schema';
import { PROVIDER_HEALTH_FAILURE_TYPES } from '../../common/failure-types';

export type BreakerMode = 'closed' | 'open' | 'half_open';
export type ForcedMode = 'open' | 'closed';

/** One call's outcome as a worker reports it to the breaker. */
export interface BreakerOutcome {
  model: string;
  ok: boolean;
  /** Canonical failure type of a failed call. */
  failureType?: string;
  /** A rate limit's Retry-After. */
  retryAfterMs?: number;
  latencyMs?: number;
  /** The id of the probe permit this call held, when it was a half-open probe. */
  probeId?: string;
}

/** An outcome as histories recorded it: before 2026-12-02 the model was `modelId`. */
export type RecordedBreakerOutcome = BreakerOutcome | (Omit<BreakerOutcome, 'model'> & { modelId: string });

function readBreakerOutcome(recorded: RecordedBreakerOutcome): BreakerOutcome {
  if (!('modelId' in recorded)) return recorded;
  const { modelId, ...rest } = recorded;
  return { model: modelId, ...rest };
}

/** Successes and failures in one slice of the sliding window. */
interface Bucket {
  start: number;
  successes: number;
  failures: number;
}

/** Smoothed health of one model behind this breaker. */
export interface ModelHealth {
  successes: number;
  failures: number;
  /** Smoothed latency of successful calls; null before the first. */
  latencyMs: number | null;
}

export interface Transition {
  from: BreakerMode;
  to: BreakerMode;
  at: number;
  reason: string;
}

export interface AuditEntry {
  at: number;
  actor: string;
  action: string;
  reason: string;
}

/** Everything a breaker remembers; carried across continue-as-new. */
export interface BreakerState {
  key: string;
  mode: BreakerMode;
  forced: ForcedMode | null;
  consecutiveFailures: number;
  buckets: Bucket[];
  /** Openings since the breaker last closed: the cool-down doubles with each. */
  openings: number;
  openUntil: number | null;
  /** Why it is open (or last opened). */
  reason: string | null;
  probes: { id: string; until: number }[];
  nextProbe: number;
  lastTransition: Transition | null;
  transitions: number;
  models: Record<string, ModelHealth>;
  audit: AuditEntry[];
}

const COUNTED_FAILURES: ReadonlySet<string> = new Set(PROVIDER_HEALTH_FAILURE_TYPES);
/** Slices of the sliding window. */
const BUCKETS = 10;
/** Audit entries kept in the state (the full trail is in history and the logs). */
const AUDIT_KEPT = 20;
/** Weight of the newest latency in a model's smoothed latency. */
const LATENCY_SMOOTHING = 0.2;
/** Calls a model's health remembers before halving (so old outages fade). */
const HEALTH_WINDOW_CALLS = 200;

export function initialBreakerState(key: string): BreakerState {
  return {
    key,
    mode: 'closed',
    forced: null,
    consecutiveFailures: 0,
    buckets: [],
    openings: 0,
    openUntil: null,
    reason: null,
    probes: [],
    nextProbe: 1,
    lastTransition: null,
    transitions: 0,
    models: {},
    audit: [],
  };
}

/** The mode routing must obey: a forced mode wins. */
export function effectiveMode(state: BreakerState): BreakerMode {
  return state.forced ?? state.mode;
}

/** Counts one call's outcome and moves the breaker if it must. */
export function applyOutcome(state: BreakerState, recorded: RecordedBreakerOutcome, now: number, settings: BreakerSettings): BreakerState {
  const outcome = readBreakerOutcome(recorded);
  const next = { ...tick(state, now, settings), models: updateHealth(state.models, outcome) };
  const counted = !outcome.ok && COUNTED_FAILURES.has(outcome.failureType ?? '');

  if (next.mode === 'half_open') {
    const probe = outcome.probeId === undefined ? undefined : next.probes.find((lease) => lease.id === outcome.probeId);
    if (!probe) return next;
    next.probes = next.probes.filter((lease) => lease.id !== probe.id);
    if (outcome.ok) return close(next, now, 'probe succeeded');
    if (counted) return open(next, now, settings, `probe failed (${outcome.failureType})`);
    return next;
  }
  if (next.mode === 'open') return next;

  // Closed: count, then open on a hard signal, a run of failures, or a high failure rate.
  next.buckets = record(next.buckets, now, settings, outcome.ok || !counted ? 'success' : 'failure');
  if (outcome.ok) {
    next.consecutiveFailures = 0;
    return next;
  }
  if (!counted) return next;
  next.consecutiveFailures += 1;
  if (outcome.failureType === 'AccessDenied') return open(next, now, settings, 'access denied');
  if (outcome.failureType === 'RateLimited' && outcome.retryAfterMs !== undefined && outcome.retryAfterMs > 0) {
    return open(next, now, settings, `rate limited for ${outcome.retryAfterMs} ms`, outcome.retryAfterMs);
  }
  if (next.consecutiveFailures >= settings.consecutiveFailures) {
    return open(next, now, settings, `${next.consecutiveFailures} consecutive failures`);
  }
  const { successes, failures } = totals(next.buckets);
  const volume = successes + failures;
  if (volume >= settings.minimumVolume && failures / volume >= settings.failureRate) {
    return open(next, now, settings, `${Math.round((failures / volume) * 100)}% of ${volume} calls failed`);
  }
  return next;
}

/** Time passing: an open breaker whose cool-down is over goes half-open; expired probe leases are freed. */
export function tick(state: BreakerState, now: number, settings: BreakerSettings): BreakerState {
  let next = state;
  if (next.mode === 'open' && next.openUntil !== null && now >= next.openUntil) {
    next = transition(next, 'half_open', now, 'cool-down over');
  }
  if (next.probes.some((lease) => lease.until <= now)) {
    next = { ...next, probes: next.probes.filter((lease) => lease.until > now) };
  }
  if (next.buckets.length > 0 && next.buckets[0]!.start <= now - settings.windowMs) {
    next = { ...next, buckets: next.buckets.filter((bucket) => bucket.start > now - settings.windowMs) };
  }
  return next;
}

/**
 * A half-open breaker lets `settings.probes` calls through at a time; each
 * gets a lease that expires, so a probe lost with its worker frees its slot.
 */
export function acquireProbe(
  state: BreakerState,
  now: number,
  settings: BreakerSettings,
): { state: BreakerState; probeId: string | null } {
  const next = tick(state, now, settings);
  if (effectiveMode(next) === 'closed') return { state: next, probeId: '' };
  if (next.forced === 'open' || next.mode !== 'half_open' || next.probes.length >= settings.probes) return { state: next, probeId: null };
  const probeId = `probe-${next.nextProbe}`;
  return {
    state: { ...next, probes: [...next.probes, { id: probeId, until: now + settings.probeLeaseMs }], nextProbe: next.nextProbe + 1 },
    probeId,
  };
}

/** An operator's switch: force open (drain), force closed, or back to automatic. Audited. */
export function force(state: BreakerState, mode: ForcedMode | 'auto', now: number, actor: string, reason: string): BreakerState {
  const audit = [...state.audit, { at: now, actor, action: `force ${mode}`, reason }].slice(-AUDIT_KEPT);
  if (mode === 'auto') {
    // Back to automatic from a clean closed state: the forced period's outcomes say nothing about now.
    const released = { ...state, forced: null, audit };
    return state.mode === 'closed' ? released : close(released, now, `released by ${actor}`);
  }
  return { ...state, forced: mode, audit, transitions: state.transitions + 1, lastTransition: { from: effectiveMode(state), to: mode, at: now, reason: `forced by ${actor}: ${reason}` } };
}

/** When the breaker next needs waking (cool-down end or a probe lease expiring), or null. */
export function nextWake(state: BreakerState): number | null {
  const times = [...(state.mode === 'open' && state.openUntil !== null ? [state.openUntil] : []), ...state.probes.map((lease) => lease.until)];
  return times.length === 0 ? null : Math.min(...times);
}

/** The cool-down of the next opening: doubles with each opening since the last close, up to the cap. */
export function coolDownMs(openings: number, settings: BreakerSettings): number {
  return Math.min(settings.coolDownMs * 2 ** Math.max(0, openings), settings.maxCoolDownMs);
}

export function totals(buckets: readonly Bucket[]): { successes: number; failures: number } {
  return buckets.reduce((sum, bucket) => ({ successes: sum.successes + bucket.successes, failures: sum.failures + bucket.failures }), {
    successes: 0,
    failures: 0,
  });
}

function open(state: BreakerState, now: number, settings: BreakerSettings, reason: string, forMs?: number): BreakerState {
  const wait = forMs ?? coolDownMs(state.openings, settings);
  const opened = transition(state, 'open', now, reason);
  return { ...opened, openUntil: now + wait, openings: forMs === undefined ? state.openings + 1 : state.openings, probes: [], reason };
}

function close(state: BreakerState, now: number, reason: string): BreakerState {
  const closed = transition(state, 'closed', now, reason);
  return { ...closed, openUntil: null, openings: 0, consecutiveFailures: 0, buckets: [], probes: [], reason: null };
}

function transition(state: BreakerState, to: BreakerMode, now: number, reason: string): BreakerState {
  if (state.mode === to) return state;
  return { ...state, mode: to, transitions: state.transitions + 1, lastTransition: { from: state.mode, to, at: now, reason } };
}

function record(buckets: readonly Bucket[], now: number, settings: BreakerSettings, kind: 'success' | 'failure'): Bucket[] {
  const width = Math.max(1, Math.floor(settings.windowMs / BUCKETS));
  const start = now - (now % width);
  const kept = buckets.filter((bucket) => bucket.start > now - settings.windowMs);
  const last = kept.at(-1);
  const current = last && last.start === start ? last : { start, successes: 0, failures: 0 };
  const updated = kind === 'success' ? { ...current, successes: current.successes + 1 } : { ...current, failures: current.failures + 1 };
  return [...kept.filter((bucket) => bucket !== current), updated];
}

function updateHealth(models: Readonly<Record<string, ModelHealth>>, outcome: BreakerOutcome): Record<string, ModelHealth> {
  const current = Object.hasOwn(models, outcome.model) ? models[outcome.model]! : { successes: 0, failures: 0, latencyMs: null };
  let { successes, failures } = current;
  if (successes + failures >= HEALTH_WINDOW_CALLS) {
    successes = Math.floor(successes / 2);
    failures = Math.floor(failures / 2);
  }
  // Only failures that say the model is unwell lower its health; a bad request does not.
  const counted = !outcome.ok && COUNTED_FAILURES.has(outcome.failureType ?? '');
  const latencyMs =
    outcome.ok && outcome.latencyMs !== undefined
      ? Math.round(current.latencyMs === null ? outcome.latencyMs : current.latencyMs + LATENCY_SMOOTHING * (outcome.latencyMs - current.latencyMs))
      : current.latencyMs;
  return {
    ...models,
    [outcome.model]: { successes: successes + (outcome.ok ? 1 : 0), failures: failures + (counted ? 1 : 0), latencyMs },
  };
}
