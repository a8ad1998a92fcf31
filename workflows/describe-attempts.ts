// Runs in the workflow sandbox: deterministic, no I/O.
import type { Attempt, RouteSummary } from '../common/response-schema';
import type { RoutePlan } from '../common/routing-snapshot-schema';

/** Activity summary shown in the Temporal UI, e.g. `anthropic/claude-haiku (fallback 1 of 2)`. */
export function activitySummary(providerId: string, modelId: string, position: number, chainLength: number): string {
  const place = position === 1 ? `first of ${chainLength}` : `fallback ${position - 1} of ${chainLength - 1}`;
  return `${providerId}/${modelId} (${place})`;
}

/** Markdown details for the workflow page: the route decision and the attempt table. */
export function attemptTable(plan: RoutePlan, attempts: readonly Attempt[], configVersion: string, headline?: string): string {
  const rows = attempts.map(
    (attempt) =>
      `| ${attempt.position} | ${attempt.provider} | ${attempt.model} | ${attempt.outcome} | ${attempt.failureType ?? ''} | ${attempt.tries} | ${Math.round(attempt.durationMs)} | ${escapeCell(attempt.message ?? '')} |`,
  );
  const rejected = plan.rejected.map((model) => `- ${model.model}: ${model.reason}`);
  const facts = [
    plan.taskClass === undefined ? undefined : `task class \`${plan.taskClass}\``,
    plan.criticality === undefined ? undefined : `criticality \`${plan.criticality}\``,
    plan.sensitivity === undefined ? undefined : `sensitivity \`${plan.sensitivity}\``,
    plan.promptTokens === undefined ? undefined : `~${plan.promptTokens} prompt tokens`,
    plan.findings && Object.keys(plan.findings).length > 0
      ? `found ${Object.entries(plan.findings).map(([kind, count]) => `${count} ${kind}`).join(', ')}`
      : undefined,
    plan.required && plan.required.length > 0 ? `needs ${plan.required.join(', ')}` : undefined,
    ...(plan.budgets ?? []).map(
      (budget) =>
        `budget \`${budget.name}\` ${budget.availableUsd} of ${budget.limitUsd} USD left${budget.action === 'ok' ? '' : budget.action === 'cheaper_first' ? ': low, cheaper models first' : ': low, refusing'}`,
    ),
  ].filter((fact) => fact !== undefined);
  const scored = plan.strategy === 'scored';
  const candidates = plan.candidates.map(
    (candidate, index) =>
      `| ${index + 1} | ${candidate.provider}/${candidate.model} | ${scored ? (candidate.score ?? '') : ''} | ${
        candidate.parts ? `quality ${candidate.parts.quality}${candidate.qualityFrom === 'eval' ? ' (eval)' : ''} · cost ${candidate.parts.cost} · latency ${candidate.parts.latency} · success ${candidate.parts.success} · fit ${candidate.parts.fit}` : ''
      } | ${candidate.estimatedCostUsd ?? ''} | ${candidate.redact ? 'yes' : ''} |`,
  );
  return [
    ...(headline === undefined ? [] : [headline, '']),
    `**Route** \`${plan.resolvedFrom}\` (${plan.strategy}) · config \`${configVersion}\``,
    ...(facts.length > 0 ? ['', facts.join(' · ')] : []),
    ...(plan.refused ? ['', `**Refused**: ${plan.refused}`] : []),
    ...(plan.budgetExceeded ? ['', `**Over budget**: ${plan.budgetExceeded}`] : []),
    '',
    '| # | candidate | score | parts | worst-case USD | redacted |',
    '|---|---|---|---|---|---|',
    ...candidates,
    ...(rejected.length > 0 ? ['', '**Rejected**', ...rejected] : []),
    ...(rows.length > 0
      ? ['', '**Attempts**', '', '| # | provider | model | outcome | failure | tries | ms | message |', '|---|---|---|---|---|---|---|---|', ...rows]
      : []),
  ].join('\n');
}

/** The decision as the response carries it (`gateway.route`). */
export function routeSummary(plan: RoutePlan): RouteSummary {
  return {
    resolvedFrom: plan.resolvedFrom,
    strategy: plan.strategy,
    ...(plan.taskClass === undefined ? {} : { taskClass: plan.taskClass }),
    ...(plan.criticality === undefined ? {} : { criticality: plan.criticality }),
    ...(plan.sensitivity === undefined ? {} : { sensitivity: plan.sensitivity }),
    ...(plan.promptTokens === undefined ? {} : { promptTokens: plan.promptTokens }),
    ...(plan.findings && Object.keys(plan.findings).length > 0 ? { findings: plan.findings } : {}),
    ...(plan.budgets ? { budgets: plan.budgets } : {}),
    candidates: plan.candidates.map((candidate) => ({
      model: candidate.model,
      provider: candidate.provider,
      ...(candidate.score === undefined ? {} : { score: candidate.score }),
      ...(candidate.estimatedCostUsd === undefined ? {} : { estimatedCostUsd: candidate.estimatedCostUsd }),
      ...(candidate.redact ? { redacted: true } : {}),
    })),
    rejected: plan.rejected.map((model) => ({ model: model.model, reason: model.reason })),
  };
}

function escapeCell(text: string): string {
  // `$` would start TeX in the UI's markdown.
  return text.replace(/\|/g, '\\|').replace(/\$/g, '\\$').replace(/\n/g, ' ').slice(0, 200);
}
