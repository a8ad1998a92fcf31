// Records workflow histories for the replay test (test/workflows/replay.test.ts)
// into a new set folder, test/fixtures/histories/<set>/, and lists each in the
// manifest with its sha256. Fixtures are only ever added: a file that exists
// is never written over, so histories of every earlier version keep proving
// that today's code still replays them. Record after a workflow change:
//   node --import tsx scripts/record-replay-histories.ts [--set <name>] [scenario …]
// The set defaults to today's date and the commit (`2026-12-01-d32626c`).
// Name scenarios to record only those; `jobs` records a batch and an agent
// run (every workflow run of each), `entities` the breaker, budget, audit,
// eval-run and eval-scores workflows.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Fault } from '../mock/fault-schema';
import { ADMIN_KEY, startHarness, TENANT_KEY, type Harness } from '../test/support/gateway-harness';
import { addToManifest, HISTORIES_DIRECTORY } from '../test/support/history-fixtures';
import { evalRunWorkflow } from '../workflows/evals/eval-run-workflow';
import { resolveTemporalCli } from './temporal-dev-server';

interface Scenario {
  name: string;
  faults: Record<string, Fault>;
  stream?: boolean;
  model?: string;
  content?: string;
  headers?: Record<string, string>;
  responseFormat?: Record<string, unknown>;
  temperature?: number;
  /** Runs before the recorded request (e.g. the request that fills the cache). */
  prepare?: (harness: Harness, send: () => Promise<Response>) => Promise<void>;
  /** Cancels the request's workflow once its first model call is out. */
  cancel?: boolean;
}

const scenarios: Scenario[] = [
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
  { name: 'budget-skips-priced-model', faults: {}, model: 'replay-budgeted', headers: { 'x-gateway-feature': 'replay-tiny' } },
  {
    name: 'cache-hit',
    faults: {},
    temperature: 0,
    prepare: async (_harness, send) => void (await (await send()).text()),
  },
  {
    name: 'cache-stale-when-every-model-down',
    faults: { 'model-small': { status: 500 }, 'model-a': { status: 500 }, 'model-b': { status: 500 }, 'model-c': { status: 500 } },
    model: 'summarize',
    temperature: 0,
    prepare: async (harness, send) => {
      await harness.clearFaults();
      await (await send()).text();
      // Past the class's one-second TTL, inside its stale window.
      await sleep(1_500);
    },
  },
  { name: 'deadline-ends-in-fallback', faults: { 'model-a': { latencyMs: 5_000 } }, headers: { 'x-gateway-timeout-ms': '700' } },
  { name: 'cancelled-during-call', faults: { 'model-a': { latencyMs: 30_000 } }, headers: { 'x-gateway-async': 'true' }, cancel: true },
  // Hedging (route replay-hedged: model-h, whose provider hedges after 200 ms, then model-b).
  { name: 'hedge-overtakes-hanging-model', faults: { 'model-h': { hang: true } }, model: 'replay-hedged' },
  { name: 'hedge-cancelled-when-first-answers', faults: { 'model-h': { latencyMs: 1_200 }, 'model-b': { hang: true } }, model: 'replay-hedged' },
  // The common case of a hedged provider: it answers, or fails for good, before the hedge; the timer is cancelled.
  { name: 'hedged-model-answers-before-the-hedge', faults: {}, model: 'replay-hedged' },
  { name: 'hedged-model-fails-before-the-hedge', faults: { 'model-h': { status: 401 } }, model: 'replay-hedged' },
];

/** Budgets of the budget scenarios: one with room, one too small for any priced model. */
const BUDGETS = {
  'replay-budget': { feature: 'replay-budget', period: 'day', limitUsd: 10 },
  'replay-tiny': { feature: 'replay-tiny', period: 'day', limitUsd: 0.000001 },
} as const;

function argument(name: string): string | undefined {
  const index = process.argv.indexOf(name);
  return index === -1 ? undefined : process.argv[index + 1];
}

const SET =
  argument('--set') ??
  `${new Date().toISOString().slice(0, 10)}-${execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim()}`;
const OUT = join(HISTORIES_DIRECTORY, SET);
const only = process.argv.slice(2).filter((value, index, all) => value !== '--set' && all[index - 1] !== '--set');
const wanted = (name: string) => only.length === 0 || only.includes(name);
const written: string[] = [];

/** Writes one history into the set; never over an existing file. */
function save(harness: Harness, name: string, workflowId: string, runId?: string): void {
  const history = execFileSync(
    resolveTemporalCli(),
    ['workflow', 'show', '--workflow-id', workflowId, ...(runId ? ['--run-id', runId] : []), '--output', 'json', '--address', harness.devServer.address],
    { encoding: 'utf8' },
  );
  const file = join(OUT, `${name}.json`);
  mkdirSync(join(file, '..'), { recursive: true });
  writeFileSync(file, history, { flag: 'wx' });
  written.push(relative(HISTORIES_DIRECTORY, file).split('\\').join('/'));
}

async function main(): Promise<void> {
  const cacheDirectory = mkdtempSync(join(tmpdir(), 'switchyard-record-'));
  // Jobs: pages of 2 and agent runs that continue as new after each tool step, so the fixtures cover continue-as-new.
  const harness = await startHarness({
    configure: (config) => ({
      ...config,
      providers: {
        ...config.providers,
        'mock-hedged': { ...(config.providers['mock-openai'] ?? { type: 'openai', baseUrl: '' }), timeouts: { requestMs: 10_000, totalMs: 20_000, heartbeatMs: 1_000, hedgeAfterMs: 200 } },
      },
      models: { ...config.models, 'model-h': { ...config.models['model-a'], provider: 'mock-hedged', fallbacks: ['model-b'] } },
      routes: { ...config.routes, 'replay-budgeted': ['model-a', 'model-c'], 'replay-hedged': ['model-h', 'model-b'] },
      budgets: BUDGETS,
      cache: { enabled: true, sqliteFile: join(cacheDirectory, 'cache.sqlite'), taskClassTtlSeconds: { summarize: 1 } },
      batch: { ...config.batch, pageSize: 2 },
      agents: { tools: {}, continueAsNewAfterEvents: 10 },
    }),
  });
  try {
    if (wanted('jobs')) await recordJobs(harness);
    for (const scenario of scenarios.filter(({ name }) => wanted(name))) await recordScenario(harness, scenario);
  } finally {
    await harness.stop();
    rmSync(cacheDirectory, { recursive: true, force: true });
  }
  if (wanted('entities')) await recordEntities();
  addToManifest(written);
  console.log(`${written.length} histories written to ${relative(process.cwd(), OUT)}; manifest updated`);
}

async function recordScenario(harness: Harness, scenario: Scenario): Promise<void> {
  await harness.clearFaults();
  const send = () =>
    fetch(`${harness.apiUrl}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TENANT_KEY}`, 'content-type': 'application/json', ...scenario.headers },
      body: JSON.stringify({
        model: scenario.model ?? 'model-a',
        stream: scenario.stream,
        messages: [{ role: 'user', content: scenario.content ?? `replay ${scenario.name}` }],
        ...(scenario.temperature === undefined ? {} : { temperature: scenario.temperature }),
        ...(scenario.responseFormat ? { response_format: scenario.responseFormat } : {}),
      }),
    });
  await scenario.prepare?.(harness, send);
  for (const [model, fault] of Object.entries(scenario.faults)) await harness.setFault(model, fault);
  const response = await send();
  await response.text();
  // An error answer names no workflow: it is the latest one started.
  const workflowId = response.headers.get('x-gateway-workflow-id') ?? (await latestRequestWorkflowId(harness));
  const handle = harness.client.workflow.getHandle(workflowId);
  if (scenario.cancel) {
    for (let waited = 0; ((await harness.calls())['model-a'] ?? 0) === 0; waited += 100) {
      if (waited > 30_000) throw new Error(`${scenario.name}: the first model was never called`);
      await sleep(100);
    }
    await handle.cancel();
  }
  await handle.result().catch(() => undefined);
  save(harness, scenario.name, workflowId);
  console.log(`${scenario.name}: HTTP ${response.status} → ${workflowId}`);
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
  for (const [name, workflowId] of [['batch', batch.id], ['agent-run', run.id]] as const) {
    await harness.client.workflow.getHandle(workflowId).result();
    const runs: { runId: string; started: number }[] = [];
    for await (const execution of harness.client.workflow.list({ query: `WorkflowId = '${workflowId}'` })) runs.push({ runId: execution.runId, started: execution.startTime.getTime() });
    runs.sort((left, right) => left.started - right.started);
    for (const [index, { runId }] of runs.entries()) save(harness, `jobs/${name}-run-${index + 1}`, workflowId, runId);
    console.log(`${name}: ${runs.length} runs of ${workflowId}`);
  }
}

/**
 * The long-lived workflows: a breaker that opened and closed again, a budget
 * ledger, the audit log, an eval run and the scores it recorded. Their
 * histories are taken while they run (a replay of an open history is exact
 * up to its last event).
 */
async function recordEntities(): Promise<void> {
  const evalsDirectory = mkdtempSync(join(tmpdir(), 'switchyard-record-evals-'));
  writeFileSync(
    join(evalsDirectory, 'chat.jsonl'),
    `${JSON.stringify({ id: 'echo', messages: [{ role: 'user', content: 'Repeat after me: replay' }], checks: [{ type: 'regex', pattern: 'replay' }] })}\n`,
  );
  const harness = await startHarness({
    breakers: true,
    breaker: { consecutiveFailures: 2, coolDownMs: 500, maxCoolDownMs: 1_000, probes: 1 },
    configure: (config) => ({ ...config, budgets: BUDGETS, evals: { dir: evalsDirectory } }),
  });
  try {
    const ask = (headers: Record<string, string> = {}) =>
      fetch(`${harness.apiUrl}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${TENANT_KEY}`, 'content-type': 'application/json', ...headers },
        body: JSON.stringify({ model: 'model-a', messages: [{ role: 'user', content: 'replay entities' }] }),
      }).then((response) => response.text());
    await harness.setFault('model-a', { status: 503 });
    for (let index = 0; index < 4; index++) await ask();
    await harness.clearFaults();
    await sleep(1_500);
    for (let index = 0; index < 3; index++) await ask({ 'x-gateway-feature': 'replay-budget' });
    // An audit event: an operator forces a breaker open, then closed.
    for (const mode of ['open', 'closed']) {
      await fetch(`${harness.apiUrl}/admin/breakers/mock-anthropic`, {
        method: 'POST',
        headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' },
        body: JSON.stringify({ mode, reason: 'replay fixture' }),
      }).then((response) => response.text());
    }
    // Every breaker open: the request answers the deterministic fallback (once the snapshot has them all open).
    const force = (provider: string, mode: string) =>
      fetch(`${harness.apiUrl}/admin/breakers/${provider}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' },
        body: JSON.stringify({ mode, reason: 'replay fixture: all down' }),
      }).then((response) => response.text());
    const providers = ['mock-openai', 'mock-anthropic', 'mock-local'];
    for (const provider of providers) await force(provider, 'open');
    let allOpen: string | undefined;
    for (let round = 0; round < 100 && !allOpen; round += 1) {
      const response = await fetch(`${harness.apiUrl}/v1/chat/completions`, {
        method: 'POST',
        headers: { authorization: `Bearer ${TENANT_KEY}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'model-a', messages: [{ role: 'user', content: 'replay every breaker open' }] }),
      });
      const body = (await response.json()) as { gateway?: { route?: { candidates: unknown[]; rejected: unknown[] } } };
      if (body.gateway?.route?.candidates.length === 0 && body.gateway.route.rejected.length === providers.length) allOpen = response.headers.get('x-gateway-workflow-id') ?? undefined;
      else await sleep(100);
    }
    if (!allOpen) throw new Error('routing never saw every breaker open');
    save(harness, 'every-breaker-open', allOpen);
    for (const provider of providers) await force(provider, 'auto');
    const run = await harness.client.workflow.start(evalRunWorkflow, {
      taskQueue: harness.env.SWITCHYARD_TASK_QUEUE ?? '',
      workflowId: 'replay-eval-run',
      args: [{ taskClass: 'chat' }],
    });
    await run.result();
    await sleep(1_000);
    for (const type of ['providerBreakerWorkflow', 'budgetWorkflow', 'auditLogWorkflow', 'evalRunWorkflow', 'evalScoresWorkflow']) {
      const executions: { workflowId: string; runId: string }[] = [];
      for await (const execution of harness.client.workflow.list({ query: `WorkflowType = '${type}'` })) executions.push(execution);
      if (executions.length === 0) throw new Error(`no ${type} ran`);
      const kebab = type.replace(/Workflow$/, '').replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`);
      for (const [index, execution] of executions.entries()) save(harness, `entities/${kebab}-${index + 1}`, execution.workflowId, execution.runId);
      console.log(`${type}: ${executions.length}`);
    }
  } finally {
    await harness.stop();
    rmSync(evalsDirectory, { recursive: true, force: true });
  }
}

async function latestRequestWorkflowId(harness: Harness): Promise<string> {
  for await (const execution of harness.client.workflow.list({ query: "WorkflowType = 'llmRequestWorkflow'" })) return execution.workflowId;
  throw new Error('no request workflow found');
}

void main();
