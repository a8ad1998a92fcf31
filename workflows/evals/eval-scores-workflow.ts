// Runs in the workflow sandbox: deterministic, no I/O.
import { allHandlersFinished, condition, continueAsNew, defineQuery, defineUpdate, setCurrentDetails, setHandler, workflowInfo } from '@temporalio/workflow';
import type { ModelScore } from '../../common/eval-schema';

/** Events after which the board continues as new. */
const HISTORY_EVENTS_LIMIT = 1_000;

/** The latest score of every (task class, model) that was measured. */
export interface EvalScores {
  byTaskClass: Record<string, Record<string, ModelScore>>;
  updatedAt: number | null;
}

export const EVAL_SCORES_WORKFLOW_ID = 'eval-scores';
export const recordEvalScoresUpdate = defineUpdate<EvalScores, [ModelScore[]]>('record');
export const evalScoresQuery = defineQuery<EvalScores>('scores');

/**
 * Every model's latest pass rate per task class, shared by every worker: eval
 * runs record into it (update), workers read it into their routing snapshots
 * (query). Its page in the Temporal UI is the eval report.
 */
export async function evalScoresWorkflow(input: { scores?: EvalScores } = {}): Promise<void> {
  let scores: EvalScores = input.scores ?? { byTaskClass: {}, updatedAt: null };
  let changed = true;
  setHandler(recordEvalScoresUpdate, (measured) => {
    const byTaskClass = { ...scores.byTaskClass };
    for (const score of measured) {
      // The run before's pass rate stays beside the new one: the drop since the previous run is what alerts read.
      const previous = byTaskClass[score.taskClass]?.[score.model];
      byTaskClass[score.taskClass] = { ...byTaskClass[score.taskClass], [score.model]: { ...score, ...(previous ? { previousPassRate: previous.passRate } : {}) } };
    }
    scores = { byTaskClass, updatedAt: Date.now() };
    changed = true;
    return scores;
  });
  setHandler(evalScoresQuery, () => scores);
  for (;;) {
    await condition(() => changed || workflowInfo().continueAsNewSuggested);
    changed = false;
    setCurrentDetails(evalReportMarkdown(scores));
    if (workflowInfo().continueAsNewSuggested || workflowInfo().historyLength > HISTORY_EVENTS_LIMIT) {
      await condition(allHandlersFinished);
      await continueAsNew<typeof evalScoresWorkflow>({ scores });
    }
  }
}

/** The eval report as markdown: a table per task class, best pass rate first. */
export function evalReportMarkdown(scores: EvalScores): string {
  const sections = Object.keys(scores.byTaskClass)
    .sort()
    .map((taskClass) => {
      const rows = Object.values(scores.byTaskClass[taskClass] ?? {})
        .sort((left, right) => right.passRate - left.passRate || left.model.localeCompare(right.model))
        .map(
          (score) =>
            `| ${score.model} | ${Math.round(score.passRate * 100)}% (${score.passed}/${score.cases}) | ${score.latencyMsP50 ?? ''} | ${score.costPerPassUsd ?? ''} |`,
        );
      return [`**${taskClass}**`, '', '| model | pass rate | latency p50 ms | USD per passing answer |', '|---|---|---|---|', ...rows].join('\n');
    });
  return sections.length === 0 ? 'No eval run recorded yet.' : sections.join('\n\n');
}
