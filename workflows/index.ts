// Runs in the workflow sandbox: deterministic, no I/O.
// The worker bundles this file: every workflow type the gateway runs is exported here.
export { llmRequestWorkflow } from './llm-request-workflow';
export { providerBreakerWorkflow } from './breaker/provider-breaker-workflow';
export { auditLogWorkflow } from './audit/audit-log-workflow';
export { budgetWorkflow } from './budget/budget-workflow';
export { evalRunWorkflow } from './evals/eval-run-workflow';
export { evalScoresWorkflow } from './evals/eval-scores-workflow';
export { batchWorkflow } from './batch/batch-workflow';
export { agentRunWorkflow } from './agent/agent-run-workflow';
