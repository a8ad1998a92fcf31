// Runs in the workflow sandbox: deterministic, no I/O.
import { ActivityFailure, ApplicationFailure, defineQuery, isCancellation, proxyActivities, setCurrentDetails, setHandler, workflowInfo } from '@temporalio/workflow';
import type { GatewayActivities } from '../../activities/create-activities';
import type { EvalCase, ModelScore } from '../../common/eval-schema';
import { roundUsd } from '../../common/pricing';
import type { CallModelInput } from '../../common/routing-snapshot-schema';
import { readCallTarget } from '../../common/call-target';
import { classifyActivityFailure } from '../classify-activity-failure';
import { reportEvalCaseEnded } from '../telemetry';
import { evalReportMarkdown } from './eval-scores-workflow';

export interface EvalRunInput {
  /** One task class; every class with an eval set when absent. */
  taskClass?: string;
}

export interface EvalRunProgress {
  total: number;
  done: number;
  passed: number;
  /** Cases that could not run (the provider was down): left out of pass rates. */
  notRun: number;
}

export interface EvalRunReport {
  runAt: number;
  configVersion: string;
  scores: ModelScore[];
  /** Eval sets that could not be read, and why. */
  skipped: { taskClass: string; error: string }[];
}

export const evalProgressQuery = defineQuery<EvalRunProgress>('progress');

const { prepareEvalRun, recordEvalScores } = proxyActivities<GatewayActivities>({
  startToCloseTimeout: 60_000,
  retry: { maximumAttempts: 3, nonRetryableErrorTypes: ['InvalidRequest'] },
});

/** How many failure reasons a score keeps. */
const FAILURES_KEPT = 5;

/**
 * Scores every candidate model of a task class (or of every class with an
 * eval set) on its set, through the same provider adapters as requests, and
 * records the pass rates where routing reads them. A case the provider could
 * not answer at all (down, rate limited) is left out rather than failed: an
 * outage is the breakers' business, not a quality verdict.
 */
export async function evalRunWorkflow(input: EvalRunInput = {}): Promise<EvalRunReport> {
  const progress: EvalRunProgress = { total: 0, done: 0, passed: 0, notRun: 0 };
  setHandler(evalProgressQuery, () => progress);
  const plan = await prepareEvalRun(input.taskClass);
  const runAt = Date.now();
  const { runEvalCase } = proxyActivities<GatewayActivities>({
    startToCloseTimeout: plan.caseTimeoutMs,
    heartbeatTimeout: plan.heartbeatMs,
    retry: { maximumAttempts: 3, initialInterval: 1_000, nonRetryableErrorTypes: ['InvalidRequest'] },
  });

  // Plans recorded before 2026-12-02 name targets `modelId`/`providerId`.
  const classes = plan.classes.map((entry) => ({ ...entry, models: entry.models.map(readCallTarget) }));
  const jobs = classes.flatMap(({ taskClass, models, cases }) =>
    models.flatMap((target) => cases.map((evalCase) => ({ taskClass, target, evalCase }))),
  );
  progress.total = jobs.length;
  const outcomes: { taskClass: string; target: CallModelInput; evalCase: EvalCase; result?: Awaited<ReturnType<typeof runEvalCase>> }[] = [];
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < jobs.length) {
      const job = jobs[next++];
      if (job === undefined) break;
      try {
        const result = await runEvalCase(job.taskClass, job.target, job.evalCase);
        outcomes.push({ ...job, result });
        if (result.passed) progress.passed += 1;
        reportEvalCaseEnded(job.taskClass, job.target, { format: job.evalCase.output?.type ?? 'text', ...result });
      } catch (error) {
        if (isCancellation(error)) throw error;
        if (!(error instanceof ActivityFailure)) throw error;
        outcomes.push(job);
        progress.notRun += 1;
        // Counted with why it could not run (an outage: nothing billed).
        reportEvalCaseEnded(job.taskClass, job.target, { format: job.evalCase.output?.type ?? 'text', latencyMs: 0, costUsd: 0, failureType: classifyActivityFailure(error).type });
      }
      progress.done += 1;
    }
  };
  await Promise.all(Array.from({ length: Math.min(plan.concurrency, Math.max(1, jobs.length)) }, lane));

  const scores: ModelScore[] = [];
  for (const { taskClass, models } of classes) {
    for (const target of models) {
      const ran = outcomes.filter((outcome) => outcome.taskClass === taskClass && outcome.target.model === target.model && outcome.result);
      if (ran.length === 0) continue;
      const results = ran.map((outcome) => outcome.result).filter((result) => result !== undefined);
      const passed = results.filter((result) => result.passed).length;
      const costUsd = roundUsd(results.reduce((sum, result) => sum + result.costUsd, 0));
      const latencies = results.map((result) => result.latencyMs).sort((left, right) => left - right);
      scores.push({
        model: target.model,
        taskClass,
        cases: results.length,
        passed,
        passRate: passed / results.length,
        latencyMsP50: latencies.length === 0 ? null : (latencies[Math.floor((latencies.length - 1) / 2)] ?? null),
        costUsd,
        costPerPassUsd: passed === 0 ? null : roundUsd(costUsd / passed),
        runAt,
        workflowId: workflowInfo().workflowId,
        failures: ran
          .filter((outcome) => outcome.result && !outcome.result.passed)
          .slice(0, FAILURES_KEPT)
          .map((outcome) => `${outcome.evalCase.id}: ${outcome.result?.failures.join('; ') ?? ''}`),
      });
    }
  }
  if (scores.length === 0 && jobs.length > 0) {
    throw ApplicationFailure.nonRetryable(`no eval case could run (${progress.notRun} not run): are the providers down?`, 'EvalNotRun');
  }
  await recordEvalScores(scores);
  const byTaskClass: Record<string, Record<string, ModelScore>> = {};
  for (const score of scores) byTaskClass[score.taskClass] = { ...byTaskClass[score.taskClass], [score.model]: score };
  const skipped = plan.skipped.map((entry) => `- skipped ${entry.taskClass}: ${entry.error}`).join('\n');
  setCurrentDetails(
    `**Eval run** · config \`${plan.configVersion}\` · ${progress.done} cases, ${progress.notRun} not run\n\n${evalReportMarkdown({ byTaskClass, updatedAt: runAt })}${skipped ? `\n\n${skipped}` : ''}`,
  );
  return { runAt, configVersion: plan.configVersion, scores, skipped: plan.skipped };
}
