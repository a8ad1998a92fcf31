import { readdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { ApplicationFailure } from '@temporalio/activity';
import { EvalCaseSchema, type EvalCase, type ModelScore } from '../../common/eval-schema';
import { PROVIDER_HEALTH_FAILURE_TYPES, isFailureType, type FailureType } from '../../common/failure-types';
import { own } from '../../common/own';
import { costOfUsage } from '../../common/pricing';
import type { CanonicalRequest } from '../../common/request-schema';
import type { Usage } from '../../common/response-schema';
import type { CallModelInput } from '../../common/routing-snapshot-schema';
import { readCallTarget, type RecordedCallModelInput } from '../../common/call-target';
import { callProvider, type ActivityDependencies } from '../call-provider';
import { scoreCase } from './score-case';

const PROJECT_ROOT = resolve(__dirname, '../..');

export interface EvalPlan {
  configVersion: string;
  concurrency: number;
  caseTimeoutMs: number;
  heartbeatMs: number;
  classes: { taskClass: string; models: CallModelInput[]; cases: EvalCase[] }[];
  /** Sets that could not be read in a run over every class (one broken file does not stop the others). */
  skipped: { taskClass: string; error: string }[];
}

export interface EvalCaseResult {
  passed: boolean;
  failures: string[];
  latencyMs: number;
  costUsd: number;
  /** The tokens the provider billed for the answer (refused ones included). */
  usage?: Usage;
  /** Why the answer was not acceptable (`InvalidOutput`, `ContentRefused`, …); absent when the model answered. */
  failureType?: FailureType;
}

/** Reads `<dir>/<task class>.jsonl`; every line must be a valid case (the error names the line). */
export function readEvalSet(dir: string, taskClass: string): EvalCase[] {
  const file = resolve(dir, `${taskClass}.jsonl`);
  const lines = readFileSync(file, 'utf8').split('\n');
  const cases: EvalCase[] = [];
  lines.forEach((line, index) => {
    if (line.trim() === '') return;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      throw ApplicationFailure.nonRetryable(`${file}:${index + 1}: not JSON`, 'InvalidRequest');
    }
    const parsed = EvalCaseSchema.safeParse(value);
    if (!parsed.success) throw ApplicationFailure.nonRetryable(`${file}:${index + 1}: ${parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ')}`, 'InvalidRequest');
    cases.push(parsed.data);
  });
  return cases;
}

/** The eval activities: plan a run from the config in force, run one case on one model, record the scores. */
export function createEvalActivities(dependencies: ActivityDependencies) {
  return {
    /** Task classes with an eval set, their candidate models and cases, from the config in force. */
    async prepareEvalRun(taskClass?: string): Promise<EvalPlan> {
      const { loaded } = dependencies.store.current;
      const { config } = loaded;
      const dir = resolve(PROJECT_ROOT, config.evals.dir);
      const available = new Set(readdirSync(dir).filter((file) => file.endsWith('.jsonl')).map((file) => file.slice(0, -'.jsonl'.length)));
      if (taskClass !== undefined && !own(config.taskClasses, taskClass)) {
        throw ApplicationFailure.nonRetryable(`unknown task class "${taskClass}"; known: ${Object.keys(config.taskClasses).join(', ')}`, 'InvalidRequest');
      }
      if (taskClass !== undefined && !available.has(taskClass)) {
        throw ApplicationFailure.nonRetryable(`no eval set for task class "${taskClass}": add ${config.evals.dir}/${taskClass}.jsonl`, 'InvalidRequest');
      }
      const names = taskClass !== undefined ? [taskClass] : Object.keys(config.taskClasses).filter((name) => available.has(name)).sort();
      const classes: EvalPlan['classes'] = [];
      const skipped: EvalPlan['skipped'] = [];
      for (const name of names) {
        let cases: EvalCase[];
        try {
          cases = readEvalSet(dir, name);
        } catch (error) {
          // Asked for by name, a broken set fails the run; in a run over every class, it is skipped and reported.
          if (taskClass !== undefined) throw error;
          skipped.push({ taskClass: name, error: error instanceof Error ? error.message : String(error) });
          continue;
        }
        const models = (own(config.taskClasses, name)?.models ?? []).flatMap((modelId) => {
          const model = own(config.models, modelId);
          return model ? [{ model: modelId, provider: model.provider, upstreamModel: model.upstreamModel ?? modelId }] : [];
        });
        classes.push({ taskClass: name, models, cases });
      }
      const longest = Math.max(1_000, ...Object.values(config.providers).map((provider) => provider.timeouts.requestMs));
      return {
        configVersion: loaded.version,
        concurrency: config.evals.concurrency,
        caseTimeoutMs: longest + 10_000,
        heartbeatMs: Math.max(...Object.values(config.providers).map((provider) => provider.timeouts.heartbeatMs), 1_000),
        classes,
        skipped,
      };
    },

    /**
     * One case on one model through the model's adapter (as a request would
     * go, without fallback), scored by its checks. An answer that fails
     * validation is a failed case; a provider that cannot be reached throws,
     * so Temporal retries and the run leaves the case out if it never answers.
     */
    async runEvalCase(taskClass: string, recorded: RecordedCallModelInput, evalCase: EvalCase): Promise<EvalCaseResult> {
      const target = readCallTarget(recorded);
      const request: CanonicalRequest = {
        requestId: `eval-${taskClass}-${evalCase.id}-${target.model}`,
        tenantId: 'evals',
        model: target.model,
        messages: evalCase.messages,
        ...(evalCase.tools ? { tools: evalCase.tools } : {}),
        ...(evalCase.output ? { output: evalCase.output } : {}),
        sampling: { temperature: 0, ...(evalCase.maxTokens === undefined ? {} : { maxTokens: evalCase.maxTokens }) },
        tags: { taskClass },
      };
      const pricing = own(dependencies.store.current.loaded.config.models, target.model)?.pricing;
      const started = Date.now();
      try {
        const result = await callProvider(dependencies, request, target, {
          call: (adapter, sent, signal) => adapter.complete(sent, { upstreamModel: target.upstreamModel, signal }),
        });
        const score = scoreCase(evalCase, result.output);
        const usage = result.billedUsage ?? result.output.usage;
        return { ...score, latencyMs: Date.now() - started, costUsd: costOfUsage(usage, pricing), usage };
      } catch (error) {
        const type = error instanceof ApplicationFailure ? error.type : undefined;
        if ((PROVIDER_HEALTH_FAILURE_TYPES as readonly (string | null | undefined)[]).includes(type) || type === 'BreakerOpen') throw error;
        if (!(error instanceof ApplicationFailure)) throw error;
        // The model answered, but not acceptably (invalid output, a refusal by content policy, …): a failed case.
        const billed = (error.details?.[0] as { billedUsage?: Usage } | undefined)?.billedUsage;
        return {
          passed: false,
          failures: [`${type ?? 'failed'}: ${error.message.slice(0, 160)}`],
          latencyMs: Date.now() - started,
          costUsd: billed ? costOfUsage(billed, pricing) : 0,
          ...(billed ? { usage: billed } : {}),
          failureType: isFailureType(type) ? type : 'InvalidOutput',
        };
      }
    },

    /** Records a run's scores where every worker's routing reads them. */
    async recordEvalScores(scores: ModelScore[]): Promise<void> {
      if (!dependencies.quality) throw ApplicationFailure.nonRetryable('this worker has no quality board', 'InvalidRequest');
      await dependencies.quality.record(scores);
    },
  };
}
