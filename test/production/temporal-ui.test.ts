// The Temporal UI server (scripts/temporal-ui.ts) against the production-shaped
// cluster: it reaches the frontend with mTLS and the API key, serves the web
// UI, and its API (the Temporal HTTP API it proxies) lists and describes a
// running workflow and answers every read the UI's pages make. A write needs
// the UI's CSRF token; without the API key the frontend refuses the UI.
// Run with `npm run test:production` (not part of `npm test`).
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { Client, Connection, type WorkflowHandleWithFirstExecutionRunId } from '@temporalio/client';
import { startTemporalCluster, type TemporalCluster } from '../../scripts/temporal-cluster';
import { startTemporalUi, type TemporalUi } from '../../scripts/temporal-ui';

/** Cluster start: PostgreSQL, schemas, certificates, server (the builds are done beforehand by test:production). */
const START_BOUND_MS = 300_000;
/** Visibility is written asynchronously; a healthy server lists a new workflow well within this. */
const VISIBILITY_BOUND_MS = 60_000;
const REQUEST_BOUND_MS = 15_000;
/** The workflows are started with no worker polling their task queue: they stay Running. */
const WORKFLOW_TYPE = 'uiProbeWorkflow';

let cluster: TemporalCluster;
let connection: Connection;
let client: Client;
let ui: TemporalUi;
let running: WorkflowHandleWithFirstExecutionRunId;
let runId: string;
let uiKey: string;
const taskQueue = `temporal-ui-${randomUUID()}`;

before(
  async () => {
    cluster = await startTemporalCluster({ name: 'ui-test' });
    connection = await Connection.connect({
      address: cluster.address,
      apiKey: cluster.apiKey,
      tls: {
        serverNameOverride: cluster.tls.serverName,
        serverRootCACertificate: readFileSync(cluster.tls.serverCaPath),
        clientCertPair: { crt: readFileSync(cluster.tls.clientCertPath), key: readFileSync(cluster.tls.clientKeyPath) },
      },
    });
    client = new Client({ connection, namespace: cluster.namespace });
    running = await client.workflow.start(WORKFLOW_TYPE, { taskQueue, workflowId: `ui-probe-${randomUUID()}`, args: [] });
    runId = running.firstExecutionRunId;
    uiKey = uiApiKey();
    ui = await startTemporalUi({ address: cluster.address, namespace: cluster.namespace, tls: cluster.tls, apiKey: uiKey });
  },
  { timeout: START_BOUND_MS },
);

after(async () => {
  await ui?.stop();
  await connection?.close();
  await cluster?.stop();
});

interface Answer {
  status: number;
  contentType: string;
  text: string;
  json<T>(): T;
}

async function get(path: string, init: RequestInit = {}): Promise<Answer> {
  const response = await fetch(`${ui.url}${path}`, { ...init, signal: AbortSignal.timeout(REQUEST_BOUND_MS) });
  const text = await response.text();
  return { status: response.status, contentType: response.headers.get('content-type') ?? '', text, json: <T>() => JSON.parse(text) as T };
}

/**
 * The UI's own key: its namespace (admin, for the UI's actions) and read access
 * to the cluster-wide APIs its pages call (the namespace list, cluster info).
 */
const uiApiKey = () => cluster.signApiKey([`${cluster.namespace}:admin`, 'temporal-system:read']);

const namespacePath = () => `/api/v1/namespaces/${encodeURIComponent(cluster.namespace)}`;
const workflowPath = (workflowId: string) => `${namespacePath()}/workflows/${encodeURIComponent(workflowId)}`;
const query = (text: string) => `query=${encodeURIComponent(text)}`;

/** Polls `check` until it returns true; fails naming `what` after `ms`. */
async function eventually(check: () => Promise<boolean>, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`gave up after ${ms / 1000} s waiting for ${what} (UI log: ${ui.logFile})`);
    await new Promise((wake) => setTimeout(wake, 200));
  }
}

interface ListWorkflowsAnswer {
  executions?: Array<{ execution: { workflowId: string; runId: string }; type: { name: string }; status: string }>;
}

test("GET / serves the UI's page, and the scripts it loads are served too", async () => {
  const page = await get('/');
  assert.equal(page.status, 200);
  assert.match(page.contentType, /^text\/html/);
  assert.match(page.text, /<!doctype html>/i);
  const script = /href="(\/_app\/immutable\/entry\/start\.[^"]+\.js)"/.exec(page.text)?.[1];
  assert.ok(script, 'the page preloads the UI entry script');
  const asset = await get(script);
  assert.equal(asset.status, 200);
  assert.match(asset.contentType, /javascript/);
});

test("the UI's API lists the running workflow by a visibility query", async () => {
  let found: ListWorkflowsAnswer['executions'];
  await eventually(
    async () => {
      const answer = await get(`${namespacePath()}/workflows?${query(`WorkflowId = '${running.workflowId}'`)}`);
      assert.equal(answer.status, 200, answer.text);
      found = answer.json<ListWorkflowsAnswer>().executions;
      return (found?.length ?? 0) > 0;
    },
    VISIBILITY_BOUND_MS,
    `${running.workflowId} in the UI's workflow list`,
  );
  assert.equal(found?.length, 1);
  assert.deepEqual(found?.[0]?.execution, { workflowId: running.workflowId, runId });
  assert.equal(found?.[0]?.type.name, WORKFLOW_TYPE);
  assert.equal(found?.[0]?.status, 'WORKFLOW_EXECUTION_STATUS_RUNNING');
});

test("the UI's API describes the workflow's run as Running on its task queue", async () => {
  const answer = await get(`${workflowPath(running.workflowId)}?execution.runId=${runId}`);
  assert.equal(answer.status, 200, answer.text);
  const described = answer.json<{ workflowExecutionInfo: { execution: { runId: string }; status: string; taskQueue: string; type: { name: string } } }>();
  assert.equal(described.workflowExecutionInfo.execution.runId, runId);
  assert.equal(described.workflowExecutionInfo.status, 'WORKFLOW_EXECUTION_STATUS_RUNNING');
  assert.equal(described.workflowExecutionInfo.taskQueue, taskQueue);
  assert.equal(described.workflowExecutionInfo.type.name, WORKFLOW_TYPE);
});

test("the UI's history views show the run's events, the raw download included", async () => {
  const history = await get(`${workflowPath(running.workflowId)}/history?execution.runId=${runId}`);
  assert.equal(history.status, 200, history.text);
  const events = history.json<{ history: { events: Array<{ eventType: string }> } }>().history.events;
  assert.equal(events[0]?.eventType, 'EVENT_TYPE_WORKFLOW_EXECUTION_STARTED');

  // The ui-server answers this one itself, from its own client: the API key reaches the frontend on it too.
  const raw = await get(`${workflowPath(running.workflowId)}/run/${runId}/history.json`);
  assert.equal(raw.status, 200);
  // Go's encoding/json of the history protos: snake_case fields, enums as numbers (1: WorkflowExecutionStarted).
  const rawEvents = raw.json<Array<{ event_type?: number; Attributes?: { WorkflowExecutionStartedEventAttributes?: { workflow_type: { name: string } } }; error?: string }>>();
  assert.equal(rawEvents.find((event) => event.error)?.error, undefined, 'no error in the raw history');
  assert.equal(rawEvents[0]?.event_type, 1);
  assert.equal(rawEvents[0]?.Attributes?.WorkflowExecutionStartedEventAttributes?.workflow_type.name, WORKFLOW_TYPE);
});

test("every read the UI's pages make is answered, none refused", async () => {
  const reads = [
    '/api/v1/settings',
    '/api/v1/system-info',
    '/api/v1/cluster-info',
    '/api/v1/namespaces',
    namespacePath(),
    `${namespacePath()}/search-attributes`,
    `${namespacePath()}/workflow-count?${query('ExecutionStatus = "Running"')}`,
    `${namespacePath()}/workflows?${query('ExecutionStatus = "Running"')}`,
    `${workflowPath(running.workflowId)}/history-reverse?execution.runId=${runId}`,
    `${namespacePath()}/task-queues/${encodeURIComponent(taskQueue)}?taskQueueType=TASK_QUEUE_TYPE_WORKFLOW`,
    `${namespacePath()}/schedules`,
    `${namespacePath()}/schedule-count`,
    `${namespacePath()}/batch-operations`,
    '/api/v1/ui-extensions',
  ];
  const refused: string[] = [];
  for (const path of reads) {
    const answer = await get(path);
    if (answer.status !== 200) refused.push(`${path}: ${answer.status} ${answer.text.slice(0, 300)}`);
  }
  assert.deepEqual(refused, []);
});

test('a write through the UI needs its CSRF token, and with it terminates a workflow', async () => {
  const target = await client.workflow.start(WORKFLOW_TYPE, { taskQueue, workflowId: `ui-terminate-${randomUUID()}`, args: [] });
  const terminate = `${workflowPath(target.workflowId)}/terminate`;
  const body = JSON.stringify({ reason: 'terminated through the Temporal UI' });

  const withoutToken = await get(terminate, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  assert.ok([400, 403].includes(withoutToken.status), `expected the CSRF check to refuse, got ${withoutToken.status}: ${withoutToken.text}`);
  assert.equal((await target.describe()).status.name, 'RUNNING');

  // The page's first answer sets the _csrf cookie; the UI sends it back as X-CSRF-Token.
  const page = await fetch(`${ui.url}/`, { signal: AbortSignal.timeout(REQUEST_BOUND_MS) });
  const token = /(?:^|;\s*)_csrf=([^;]+)/.exec(page.headers.getSetCookie().join('; '))?.[1];
  assert.ok(token, 'the UI sets a _csrf cookie');
  const withToken = await get(terminate, { method: 'POST', headers: { 'content-type': 'application/json', cookie: `_csrf=${token}`, 'x-csrf-token': token }, body });
  assert.equal(withToken.status, 200, withToken.text);
  assert.equal((await target.describe()).status.name, 'TERMINATED');
});

test("the UI's log (its start-up lines and one per request) never holds its API key", () => {
  const log = readFileSync(ui.logFile, 'utf8');
  assert.match(log, /GET|"method"/, 'the log has the requests above');
  assert.ok(!log.includes(uiKey), 'the API key is not in the log');
});

test("the cluster's namespace-only key would not do: the frontend refuses it the namespace list", async () => {
  const other = await startTemporalUi({ address: cluster.address, namespace: cluster.namespace, tls: cluster.tls, apiKey: cluster.apiKey });
  try {
    const namespaces = await fetch(`${other.url}/api/v1/namespaces`, { signal: AbortSignal.timeout(REQUEST_BOUND_MS) });
    assert.equal(namespaces.status, 403);
    const namespace = await fetch(`${other.url}${namespacePath()}`, { signal: AbortSignal.timeout(REQUEST_BOUND_MS) });
    assert.equal(namespace.status, 200, 'its own namespace, as a control');
  } finally {
    await other.stop();
  }
});

test('without the API key the frontend refuses the UI, and its start says so', async () => {
  await assert.rejects(
    startTemporalUi({ address: cluster.address, namespace: cluster.namespace, tls: cluster.tls }),
    (error: Error) => {
      assert.match(error.message, /the frontend refused the Temporal UI's GET .*\/api\/v1\/namespaces\//);
      assert.match(error.message, /\b(401|403)\b/);
      return true;
    },
  );
});
