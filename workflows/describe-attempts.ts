// Runs in the workflow sandbox: deterministic, no I/O.
import type { Attempt } from '../common/response-schema';
import type { RoutePlan } from '../common/routing-snapshot-schema';

/** Activity summary shown in the Temporal UI, e.g. `anthropic/claude-haiku (fallback 1 of 2)`. */
export function activitySummary(providerId: string, modelId: string, position: number, chainLength: number): string {
  const place = position === 1 ? `first of ${chainLength}` : `fallback ${position - 1} of ${chainLength - 1}`;
  return `${providerId}/${modelId} (${place})`;
}

/** Markdown details for the workflow page: the route decision and the attempt table. */
export function attemptTable(plan: RoutePlan, attempts: readonly Attempt[], configVersion: string): string {
  const rows = attempts.map(
    (attempt) =>
      `| ${attempt.position} | ${attempt.provider} | ${attempt.model} | ${attempt.outcome} | ${attempt.failureType ?? ''} | ${attempt.tries} | ${Math.round(attempt.durationMs)} | ${escapeCell(attempt.message ?? '')} |`,
  );
  const rejected = plan.rejected.map((model) => `- ${model.modelId}: ${model.reason}`);
  return [
    `**Route** \`${plan.resolvedFrom}\` · config \`${configVersion}\``,
    '',
    '| # | provider | model | outcome | failure | tries | ms | message |',
    '|---|---|---|---|---|---|---|---|',
    ...rows,
    ...(rejected.length > 0 ? ['', '**Rejected**', ...rejected] : []),
  ].join('\n');
}

function escapeCell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ').slice(0, 200);
}
