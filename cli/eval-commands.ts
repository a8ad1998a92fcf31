import type { Client } from '@temporalio/client';
import type { ModelScore } from '../common/eval-schema';
import { readEvalScores } from '../services/quality-board';
import { progressBar } from './progress-bar';
import { evalProgressQuery, evalRunWorkflow, type EvalRunProgress } from '../workflows/evals/eval-run-workflow';

/** Starts an eval run (one task class, or all), shows its progress, and prints its scores. */
export async function runEval(client: Client, taskQueue: string, taskClass: string | undefined, out: NodeJS.WritableStream = process.stdout): Promise<number> {
  const handle = await client.workflow.start(evalRunWorkflow, {
    taskQueue,
    workflowId: `eval-run-${taskClass ?? 'all'}-${new Date().toISOString().replace(/[:.]/g, '-')}`,
    args: [taskClass === undefined ? {} : { taskClass }],
    staticSummary: `eval run: ${taskClass ?? 'every task class'}`,
  });
  process.stderr.write(`eval run ${handle.workflowId} started (see it in the Temporal UI)\n`);
  const bar = progressBar();
  const show = (progress: EvalRunProgress) =>
    bar.update(progress.done, progress.total, `${progress.done}/${progress.total} cases, ${progress.passed} passed${progress.notRun > 0 ? `, ${progress.notRun} not run` : ''}`);
  const poll = setInterval(() => {
    handle
      .query(evalProgressQuery)
      .then(show)
      .catch(() => undefined);
  }, 500);
  try {
    const report = await handle.result();
    clearInterval(poll);
    // The last state, so the bar always ends at the whole run.
    show(await handle.query(evalProgressQuery));
    bar.finish();
    out.write(formatScores(report.scores));
    for (const entry of report.skipped) process.stderr.write(`skipped ${entry.taskClass}: ${entry.error}\n`);
    return report.skipped.length > 0 ? 1 : 0;
  } finally {
    clearInterval(poll);
  }
}

/** Prints the latest scores of every task class and model. */
export async function evalReport(client: Client, out: NodeJS.WritableStream = process.stdout): Promise<number> {
  const scores = await readEvalScores(client);
  const all = Object.values(scores.byTaskClass).flatMap((models) => Object.values(models));
  out.write(all.length === 0 ? 'no eval run recorded yet: run `switchyard eval run`\n' : formatScores(all));
  return 0;
}

/** A table per task class: model, pass rate, latency, cost per passing answer; best first. */
export function formatScores(scores: readonly ModelScore[]): string {
  const classes = [...new Set(scores.map((score) => score.taskClass))].sort();
  const sections = classes.map((taskClass) => {
    const rows = scores
      .filter((score) => score.taskClass === taskClass)
      .sort((left, right) => right.passRate - left.passRate || left.model.localeCompare(right.model))
      .map((score) => [
        score.model,
        `${Math.round(score.passRate * 100)}% (${score.passed}/${score.cases})`,
        score.latencyMsP50 === null ? '-' : `${score.latencyMsP50} ms`,
        score.costPerPassUsd === null ? '-' : `$${score.costPerPassUsd}`,
      ]);
    const header = ['model', 'pass rate', 'latency p50', 'cost / passing answer'];
    const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column]?.length ?? 0)));
    const line = (cells: readonly string[]) => cells.map((cell, column) => cell.padEnd(widths[column] ?? 0)).join('  ').trimEnd();
    return [`${taskClass}`, line(header), line(widths.map((width) => '-'.repeat(width))), ...rows.map(line)].join('\n');
  });
  return `${sections.join('\n\n')}\n`;
}
