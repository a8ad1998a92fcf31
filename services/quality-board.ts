import { WithStartWorkflowOperation, WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { ModelScore } from '../common/eval-schema';
import { metrics } from '../runtime/metrics';
import {
  EVAL_SCORES_WORKFLOW_ID,
  evalScoresQuery,
  evalScoresWorkflow,
  recordEvalScoresUpdate,
  type EvalScores,
} from '../workflows/evals/eval-scores-workflow';

export type { EvalScores };

/** How often the measured scores are read for routing. */
const REFRESH_INTERVAL_MS = 5_000;
const QUERY_DEADLINE_MS = 2_000;

/**
 * This process's view of the measured quality: the eval scores board (an
 * entity workflow) read every few seconds, so routing's quality term follows
 * the latest eval run without a config change.
 */
export class QualityBoard {
  private scores: EvalScores = { byTaskClass: {}, updatedAt: null };
  private byModel: Record<string, Record<string, number>> | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly client: Client,
    private readonly taskQueue: string,
    private readonly log?: (line: Record<string, unknown>) => void,
  ) {}

  start(): void {
    this.timer ??= setInterval(() => void this.refresh(), REFRESH_INTERVAL_MS);
    void this.refresh();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Pass rates by model, then task class; undefined before any eval run. Derived once per change, not per request. */
  measured(): Record<string, Record<string, number>> | undefined {
    return this.byModel;
  }

  /** Records a run's scores (starting the board on the first run) and adopts them at once. */
  async record(scores: ModelScore[]): Promise<void> {
    this.adopt(await this.client.workflow.executeUpdateWithStart(recordEvalScoresUpdate, {
      args: [scores],
      startWorkflowOperation: new WithStartWorkflowOperation(evalScoresWorkflow, {
        workflowId: EVAL_SCORES_WORKFLOW_ID,
        taskQueue: this.taskQueue,
        args: [{}],
        workflowIdConflictPolicy: 'USE_EXISTING',
        staticSummary: 'eval scores: pass rates per model and task class',
      }),
    }));
  }

  async refresh(): Promise<void> {
    const scores = await readEvalScores(this.client, this.log).catch(() => undefined);
    if (scores !== undefined && scores.updatedAt !== this.scores.updatedAt) this.adopt(scores);
  }

  private adopt(scores: EvalScores): void {
    this.scores = scores;
    if (scores.updatedAt === null) {
      this.byModel = undefined;
      return;
    }
    const byModel: Record<string, Record<string, number>> = {};
    for (const [taskClass, models] of Object.entries(scores.byTaskClass)) {
      for (const [model, score] of Object.entries(models)) {
        byModel[model] = { ...byModel[model], [taskClass]: score.passRate };
        metrics.evalPassRate.set({ model, task_class: taskClass }, score.passRate);
        metrics.evalPassRateChange.set({ model, task_class: taskClass }, score.previousPassRate === undefined ? 0 : score.passRate - score.previousPassRate);
      }
    }
    this.byModel = byModel;
  }
}

/** The latest eval scores; empty before the first run. */
export async function readEvalScores(client: Client, log?: (line: Record<string, unknown>) => void): Promise<EvalScores> {
  try {
    const handle = client.workflow.getHandle(EVAL_SCORES_WORKFLOW_ID);
    return await client.withDeadline(Date.now() + QUERY_DEADLINE_MS, () => handle.query(evalScoresQuery));
  } catch (error) {
    if (error instanceof WorkflowNotFoundError) return { byTaskClass: {}, updatedAt: null };
    log?.({ level: 'warn', msg: 'eval scores unreadable', error: String(error) });
    throw error;
  }
}
