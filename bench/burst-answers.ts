// One burst request through the gateway, kept whole (status, model, every
// attempt), and the counts the breaker-burst bench draws from a phase's answers.
import type { RequestOutcome } from './load';
import { postChatWithResends } from './senders';

export interface BurstAttempt {
  model: string;
  outcome: string;
  failureType?: string;
  message?: string;
}

export interface BurstAnswer {
  startedAt: number;
  endedAt: number;
  status: number;
  /** The answering model (`fallback` for the deterministic answer); undefined on an HTTP error. */
  model?: string;
  attempts: BurstAttempt[];
  /** Models routing skipped for their breaker before any call. */
  rejectedByBreaker: string[];
  /** Times the API turned this request away (5xx) before this answer. */
  turnedAway: number;
}

const BODY = JSON.stringify({ model: 'model-a', messages: [{ role: 'user', content: 'breaker burst: answer in one short sentence.' }] });
/**
 * A request the API turned away (a 5xx before any model was tried: Temporal
 * too busy to start it within the API's bound) is sent again after its
 * Retry-After, as the official clients do, at most this many times: the
 * burst measures the breakers, not the front door's shedding (counted apart).
 */
const RESENDS = 4;

/** Sends one non-streamed chat completion for `model-a` and keeps its answer in `answers`. */
export function burstSender(apiUrl: string, answers: BurstAnswer[]) {
  return async (signal: AbortSignal): Promise<RequestOutcome> => {
    const startedAt = Date.now();
    const { status, text, turnedAway } = await postChatWithResends(apiUrl, BODY, signal, RESENDS);
    const answer: BurstAnswer = { startedAt, endedAt: Date.now(), status, attempts: [], rejectedByBreaker: [], turnedAway };
    answers.push(answer);
    if (status !== 200) return `HTTP ${status}${errorCode(text)}`;
    try {
      const body = JSON.parse(text) as {
        model?: string;
        gateway?: { attempts?: BurstAttempt[]; route?: { rejected?: { model: string; reason: string }[] } };
      };
      answer.model = body.model;
      answer.attempts = (body.gateway?.attempts ?? []).map(({ model, outcome, failureType, message }) => ({ model, outcome, failureType, message }));
      answer.rejectedByBreaker = (body.gateway?.route?.rejected ?? []).filter((model) => model.reason.startsWith('breaker open')).map((model) => model.model);
    } catch {
      return 'body is not JSON';
    }
    return undefined;
  };
}

function errorCode(text: string): string {
  try {
    const error = (JSON.parse(text) as { error?: { code?: string } }).error;
    return error?.code ? ` ${error.code}` : '';
  } catch {
    return '';
  }
}

export interface AnswerCounts {
  /** Answers by the model that gave them. */
  answeredBy: Record<string, number>;
  /** Attempts by `model outcome failureType`. */
  attempts: Record<string, number>;
  /** Skipped attempts (`BreakerOpen`) by the reason in their message. */
  breakerOpenReasons: Record<string, number>;
  /** Requests whose routing skipped a model for its breaker, by model. */
  rejectedByRouting: Record<string, number>;
  /** Every attempt that failed with `Timeout`. */
  timeouts: number;
  /** Of those, the ones on a provider that was healthy at the time: breaker bookkeeping failing a call. Must be 0. */
  timeoutsOnHealthyProvider: number;
  /** The first few Timeout attempts: model, message, and seconds from the phase's start to the request's. */
  timeoutSamples: { model: string; message: string; requestStartedAtSeconds: number; healthy: boolean }[];
  /** Sends the API turned away (5xx before any model was tried) and that were sent again. */
  turnedAway: number;
}

const add = (counts: Record<string, number>, key: string) => (counts[key] = (counts[key] ?? 0) + 1);

/**
 * Counts a phase's answers. `faulted` says whether `model` had a fault set at
 * some time between a request's start and end (no fault here ever hangs, so
 * a Timeout anywhere else is the gateway's own doing).
 */
export function countAnswers(
  answers: readonly BurstAnswer[],
  phaseStartedAt: number,
  faulted: (model: string, from: number, to: number) => boolean,
): AnswerCounts {
  const counts: AnswerCounts = {
    answeredBy: {},
    attempts: {},
    breakerOpenReasons: {},
    rejectedByRouting: {},
    timeouts: 0,
    timeoutsOnHealthyProvider: 0,
    timeoutSamples: [],
    turnedAway: 0,
  };
  for (const answer of answers) {
    counts.turnedAway += answer.turnedAway;
    add(counts.answeredBy, answer.model ?? `HTTP ${answer.status}`);
    for (const model of answer.rejectedByBreaker) add(counts.rejectedByRouting, model);
    for (const attempt of answer.attempts) {
      add(counts.attempts, [attempt.model, attempt.outcome, attempt.failureType].filter(Boolean).join(' '));
      if (attempt.failureType === 'BreakerOpen') add(counts.breakerOpenReasons, /breaker open \((.*)\)/.exec(attempt.message ?? '')?.[1] ?? attempt.message ?? '');
      if (attempt.failureType !== 'Timeout') continue;
      counts.timeouts += 1;
      const healthy = !faulted(attempt.model, answer.startedAt, answer.endedAt);
      if (healthy) counts.timeoutsOnHealthyProvider += 1;
      if (counts.timeoutSamples.length < 5) {
        counts.timeoutSamples.push({ model: attempt.model, message: attempt.message ?? '', requestStartedAtSeconds: (answer.startedAt - phaseStartedAt) / 1000, healthy });
      }
    }
  }
  return counts;
}
