// Records workflow histories for the replay test (test/workflows/replay.test.ts).
// Run after a change that is meant to be compatible, review the diff, commit:
//   node --import tsx scripts/record-replay-histories.ts [scenario …]
// Name scenarios to record only those (older fixtures are worth keeping: they
// prove today's code still replays histories of earlier versions); `jobs`
// records a batch and an agent run, every workflow run of each, into jobs/.
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Fault } from '../mock/fault-schema';
import { startHarness, TENANT_KEY, type Harness } from '../test/support/gateway-harness';
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
  // Jobs: pages of 2 and agent runs that continue as new after each tool step, so the fixtures cover continue-as-new.
  const harness = await startHarness({
    configure: (config) => ({ ...config, budgets: BUDGETS, batch: { ...config.batch, pageSize: 2 }, agents: { tools: {}, continueAsNewAfterEvents: 10 } }),
  });
  try {
    const only = process.argv.slice(2);
    if (only.length === 0 || only.includes('jobs')) await recordJobs(harness);
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

/** A batch of 3 lines (2 pages) and an agent run with a tool step: every run of each, oldest first. */
async function recordJobs(harness: Harness): Promise<void> {
  const headers = { authorization: `Bearer ${TENANT_KEY}` };
  const lines = [0, 1, 2].map((index) => JSON.stringify({ custom_id: `r-${index}`, method: 'POST', url: '/v1/chat/completions', body: { model: 'model-a', messages: [{ role: 'user', content: `replay batch ${index}` }] } }));
  const form = new FormData();
  form.append('purpose', 'batch');
  form.append('file', new Blob([`${lines.join('\n')}\n`]), 'replay.jsonl');
  const file = (await (await fetch(`${harness.apiUrl}/v1/files`, { method: 'POST', headers, body: form })).json()) as { id: string };
  const batch = (await (
    await fetch(`${harness.apiUrl}/v1/batches`, {
      method: 'POST',
      headers: { ...headers, 'content-type': 'application/json' },
      body: JSON.stringify({ input_file_id: file.id, endpoint: '/v1/chat/completions', completion_window: '24h' }),
    })
  ).json()) as { id: string };
  const run = (await (
    await fetch(`${harness.apiUrl}/v1/agent/runs`, {
      method: 'POST',
      headers: { ...headers, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'model-a', messages: [{ role: 'user', content: 'replay agent run' }], tools: ['calculator'] }),
    })
  ).json()) as { id: string };
  mkdirSync(resolve(OUT, 'jobs'), { recursive: true });
  for (const [name, workflowId] of [['batch', batch.id], ['agent-run', run.id]] as const) {
    await harness.client.workflow.getHandle(workflowId).result();
    const runs: { runId: string; started: number }[] = [];
    for await (const execution of harness.client.workflow.list({ query: `WorkflowId = '${workflowId}'` })) runs.push({ runId: execution.runId, started: execution.startTime.getTime() });
    runs.sort((left, right) => left.started - right.started);
    for (const [index, { runId }] of runs.entries()) {
      const history = execFileSync(
        resolveTemporalCli(),
        ['workflow', 'show', '--workflow-id', workflowId, '--run-id', runId, '--output', 'json', '--address', harness.devServer.address],
        { encoding: 'utf8' },
      );
      writeFileSync(resolve(OUT, 'jobs', `${name}-run-${index + 1}.json`), history);
    }
    console.log(`${name}: ${runs.length} runs of ${workflowId}`);
  }
}

async function latestWorkflowId(client: Awaited<ReturnType<typeof startHarness>>['client']): Promise<string> {
  for await (const execution of client.workflow.list({ query: "WorkflowType = 'llmRequestWorkflow'" })) return execution.workflowId;
  throw new Error('no workflow found');
}

void main();
