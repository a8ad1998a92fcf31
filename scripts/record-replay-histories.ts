// Records workflow histories for the replay test (test/workflows/replay.test.ts).
// Run after a change that is meant to be compatible, review the diff, commit:
//   node --import tsx scripts/record-replay-histories.ts [scenario …]
// Name scenarios to record only those (older fixtures are worth keeping: they
// prove today's code still replays histories of earlier versions).
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Fault } from '../mock/fault-schema';
import { startHarness, TENANT_KEY } from '../test/support/gateway-harness';
import { resolveTemporalCli } from './temporal-dev-server';

const OUT = resolve(__dirname, '../test/fixtures/histories');

const scenarios: {
  name: string;
  faults: Record<string, Fault>;
  stream?: boolean;
  model?: string;
  content?: string;
  headers?: Record<string, string>;
  responseFormat?: Record<string, unknown>;
}[] = [
  { name: 'first-model-answers', faults: {} },
  { name: 'fallback-after-access-denied', faults: { 'model-a': { status: 401 } } },
  { name: 'retries-then-fallback', faults: { 'model-a': { status: 503 } } },
  { name: 'every-model-down', faults: { 'model-a': { status: 500 }, 'model-b': { status: 500 }, 'model-c': { status: 500 } } },
  { name: 'invalid-request-stops', faults: { 'model-a': { status: 400 } } },
  { name: 'streamed-first-model-answers', faults: {}, stream: true },
  { name: 'streamed-failover-before-first-token', faults: { 'model-a': { status: 503 } }, stream: true },
  { name: 'stream-interrupted', faults: { 'model-a': { cutStreamAfterChunks: 3 } }, stream: true },
  { name: 'scored-task-class', faults: {}, model: 'summarize', headers: { 'x-gateway-criticality': 'high' } },
  { name: 'confidential-to-approved-model', faults: {}, headers: { 'x-gateway-sensitivity': 'confidential' } },
  {
    name: 'billed-refused-output-then-fallback',
    faults: { 'model-a': { reply: 'Sorry, no JSON today.' } },
    responseFormat: { type: 'json_object' },
  },
  { name: 'card-redacted-for-external-model', faults: { 'model-a': { status: 503 } }, content: 'refund card 4111 1111 1111 1111' },
  { name: 'budget-reserved-and-settled', faults: {}, headers: { 'x-gateway-feature': 'replay-budget' } },
  { name: 'budget-denies-priced-models', faults: {}, headers: { 'x-gateway-feature': 'replay-tiny' } },
];

/** Budgets of the budget scenarios: one with room, one too small for any priced model. */
const BUDGETS = {
  'replay-budget': { feature: 'replay-budget', period: 'day', limitUsd: 10 },
  'replay-tiny': { feature: 'replay-tiny', period: 'day', limitUsd: 0.000001 },
} as const;

async function main(): Promise<void> {
  const harness = await startHarness({ configure: (config) => ({ ...config, budgets: BUDGETS }) });
  try {
    const only = process.argv.slice(2);
    for (const scenario of scenarios.filter(({ name }) => only.length === 0 || only.includes(name))) {
      await harness.clearFaults();
      for (const [model, fault] of Object.entries(scenario.faults)) await harness.setFault(model, fault);
      const response = await fetch(`${harness.apiUrl}/v1/chat/completions`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${TENANT_KEY}`,
          'content-type': 'application/json',
          'idempotency-key': scenario.name,
          ...scenario.headers,
        },
        body: JSON.stringify({
          model: scenario.model ?? 'model-a',
          stream: scenario.stream,
          messages: [{ role: 'user', content: scenario.content ?? `replay ${scenario.name}` }],
          ...(scenario.responseFormat ? { response_format: scenario.responseFormat } : {}),
        }),
      });
      await response.text();
      const workflowId = response.headers.get('x-gateway-workflow-id') ?? (await latestWorkflowId(harness.client));
      const history = execFileSync(
        resolveTemporalCli(),
        ['workflow', 'show', '--workflow-id', workflowId, '--output', 'json', '--address', harness.devServer.address],
        { encoding: 'utf8' },
      );
      writeFileSync(resolve(OUT, `${scenario.name}.json`), history);
      console.log(`${scenario.name}: HTTP ${response.status} → ${workflowId}`);
    }
  } finally {
    await harness.stop();
  }
}

async function latestWorkflowId(client: Awaited<ReturnType<typeof startHarness>>['client']): Promise<string> {
  for await (const execution of client.workflow.list({ query: "WorkflowType = 'llmRequestWorkflow'" })) return execution.workflowId;
  throw new Error('no workflow found');
}

void main();
