// The production-shaped cluster (scripts/temporal-cluster.ts): the real
// temporal-server on PostgreSQL with mTLS and JWT authorization. A client and
// a worker that present the CA's client certificate and the API key run
// workflows; a caller without the key, or with another CA's certificate, is
// refused; a workflow in flight survives a server restart.
// Run with `npm run test:production` (not part of `npm test`).
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { connect as connectTls } from 'node:tls';
import { after, before, test } from 'node:test';
import { Client, Connection, isGrpcServiceError } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import { COST_ATTRIBUTE, TENANT_ATTRIBUTE } from '../../common/search-attributes';
import { startTemporalCluster, type TemporalCluster } from '../../scripts/temporal-cluster';
import { gatewaySearchAttributeTypes } from '../../scripts/temporal-cluster-setup';
import * as activities from './cluster-activities';
import { greetingWorkflow, releasedGreetingWorkflow, releaseSignal } from './cluster-workflows';

/** Cluster start: PostgreSQL, schemas, certificates, server (the server build is done beforehand by test:production). */
const START_BOUND_MS = 300_000;
/** A workflow of one activity on a healthy server takes well under a second; this bounds a stuck one. */
const WORKFLOW_BOUND_MS = 60_000;
const GRPC_PERMISSION_DENIED = 7;
const GRPC_UNAUTHENTICATED = 16;

let cluster: TemporalCluster;
let client: Client;
let clientConnection: Connection;
let workerConnection: NativeConnection;
let worker: Worker;
let workerRun: Promise<void>;
const taskQueue = `production-cluster-${randomUUID()}`;

function tlsWith(cert: { certPath: string; keyPath: string }) {
  return {
    serverNameOverride: cluster.tls.serverName,
    serverRootCACertificate: readFileSync(cluster.tls.serverCaPath),
    clientCertPair: { crt: readFileSync(cert.certPath), key: readFileSync(cert.keyPath) },
  };
}
const clientCert = () => ({ certPath: cluster.tls.clientCertPath, keyPath: cluster.tls.clientKeyPath });

/** `promise`, or a failure naming `what` once `ms` have passed. */
async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms / 1000} s (server log: ${cluster.logFile})`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * A TLS 1.3 connection to the frontend presenting `cert` (none when
 * undefined), then the HTTP/2 preface: `accepted` once the server answers
 * with data, else the code of the TLS alert it sent. A server that refuses
 * the client certificate says so only after the client's side of the
 * handshake is done, hence the preface.
 */
function tlsHandshake(cert: { certPath: string; keyPath: string } | undefined): Promise<string> {
  const [host, port] = cluster.address.split(':');
  const attempt = new Promise<string>((resolveOutcome) => {
    const socket = connectTls({
      host,
      port: Number(port),
      servername: cluster.tls.serverName,
      ca: readFileSync(cluster.tls.serverCaPath),
      ALPNProtocols: ['h2'],
      ...(cert ? { cert: readFileSync(cert.certPath), key: readFileSync(cert.keyPath) } : {}),
    });
    const settle = (outcome: string) => {
      socket.destroy();
      resolveOutcome(outcome);
    };
    const emptySettingsFrame = Buffer.from([0, 0, 0, 4, 0, 0, 0, 0, 0]);
    socket.once('secureConnect', () => socket.write(Buffer.concat([Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'), emptySettingsFrame])));
    socket.once('data', () => settle('accepted'));
    socket.once('error', (error: NodeJS.ErrnoException) => settle(error.code ?? error.message));
    socket.once('end', () => settle('closed without an answer'));
  });
  return within(attempt, 10_000, 'a TLS handshake with the frontend');
}

/** Polls `check` until it returns true; fails naming `what` after `ms`. */
async function eventually(check: () => Promise<boolean>, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`gave up after ${ms / 1000} s waiting for ${what}`);
    await new Promise((wake) => setTimeout(wake, 200));
  }
}

before(
  async () => {
    cluster = await startTemporalCluster({ name: 'production-test' });
    clientConnection = await Connection.connect({ address: cluster.address, apiKey: cluster.apiKey, tls: tlsWith(clientCert()) });
    client = new Client({ connection: clientConnection, namespace: cluster.namespace });
    workerConnection = await NativeConnection.connect({ address: cluster.address, apiKey: cluster.apiKey, tls: tlsWith(clientCert()) });
    worker = await Worker.create({
      connection: workerConnection,
      namespace: cluster.namespace,
      taskQueue,
      workflowsPath: require.resolve('./cluster-workflows'),
      activities,
    });
    workerRun = worker.run();
  },
  { timeout: START_BOUND_MS },
);

after(async () => {
  if (worker && worker.getState() === 'RUNNING') worker.shutdown();
  await workerRun;
  await workerConnection?.close();
  await clientConnection?.close();
  await cluster?.stop();
});

test('a client and a worker with the client certificate and the API key run a workflow to completion', async () => {
  const result = await within(
    client.workflow.execute(greetingWorkflow, { taskQueue, workflowId: `greeting-${randomUUID()}`, args: ['cluster'] }),
    WORKFLOW_BOUND_MS,
    'greetingWorkflow',
  );
  assert.equal(result, 'Hello, cluster!');
});

test("the gateway's search attributes are registered with their types and a workflow is found by them", async () => {
  const { customAttributes } = await clientConnection.operatorService.listSearchAttributes({ namespace: cluster.namespace });
  for (const [name, type] of Object.entries(gatewaySearchAttributeTypes())) {
    assert.equal(customAttributes?.[name], type, `search attribute ${name}`);
  }

  const tenant = `tenant-${randomUUID()}`;
  const workflowId = `searchable-${randomUUID()}`;
  await within(
    client.workflow.execute(greetingWorkflow, {
      taskQueue,
      workflowId,
      args: ['search'],
      typedSearchAttributes: [
        { key: TENANT_ATTRIBUTE, value: tenant },
        { key: COST_ATTRIBUTE, value: 0.25 },
      ],
    }),
    WORKFLOW_BOUND_MS,
    'a workflow with search attributes',
  );
  // Visibility is written asynchronously: the closed workflow shows in a list query soon after.
  await eventually(
    async () => {
      const found: string[] = [];
      for await (const execution of client.workflow.list({ query: `Tenant = '${tenant}' AND CostUsd > 0.2 AND ExecutionStatus = 'Completed'` })) {
        found.push(execution.workflowId);
      }
      return found.length === 1 && found[0] === workflowId;
    },
    WORKFLOW_BOUND_MS,
    `a list query on Tenant and CostUsd to find ${workflowId}`,
  );
});

test('a caller with the client certificate but without the API key is refused', async () => {
  const connection = await Connection.connect({ address: cluster.address, tls: tlsWith(clientCert()) });
  try {
    await assert.rejects(connection.workflowService.describeNamespace({ namespace: cluster.namespace }), (error: unknown) => {
      assert.ok(isGrpcServiceError(error), `expected a gRPC error, got ${String(error)}`);
      assert.ok([GRPC_PERMISSION_DENIED, GRPC_UNAUTHENTICATED].includes(error.code), `expected PermissionDenied or Unauthenticated, got code ${error.code}: ${error.message}`);
      return true;
    });
  } finally {
    await connection.close();
  }
});

test('a caller whose client certificate another CA signed is refused in the TLS handshake, API key or not', async () => {
  assert.equal(await tlsHandshake(clientCert()), 'accepted', 'the CA-signed certificate, as a control');
  assert.equal(await tlsHandshake(cluster.wrongClientCert), 'ERR_SSL_TLSV1_ALERT_UNKNOWN_CA');
  // The SDK sees only a channel that never becomes ready (grpc-js retries the handshake until the deadline).
  await assert.rejects(
    Connection.connect({ address: cluster.address, apiKey: cluster.apiKey, connectTimeout: 5_000, tls: tlsWith(cluster.wrongClientCert) }),
    /Failed to connect before the deadline/,
  );
});

test('a caller without a client certificate is refused in the TLS handshake', async () => {
  assert.equal(await tlsHandshake(undefined), 'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED');
});

test("a schedule starts its workflow: the server's own workers reach the API through the internal frontend", async () => {
  // Schedules run as system workflows in the server's worker service, which calls the frontend API
  // like any client. With authorization on, only the internal frontend lets it in.
  const schedule = await client.schedule.create({
    scheduleId: `schedule-${randomUUID()}`,
    spec: { intervals: [{ every: '1 hour' }] },
    action: { type: 'startWorkflow', workflowType: greetingWorkflow, taskQueue, args: ['schedule'] },
    state: { triggerImmediately: true },
  });
  try {
    let workflowId: string | undefined;
    await eventually(
      async () => {
        workflowId = (await schedule.describe()).info.recentActions[0]?.action.workflow.workflowId;
        return workflowId !== undefined;
      },
      WORKFLOW_BOUND_MS,
      'the schedule to take its first action',
    );
    assert.ok(workflowId);
    assert.equal(await within(client.workflow.getHandle(workflowId).result(), WORKFLOW_BOUND_MS, 'the scheduled workflow'), 'Hello, schedule!');
  } finally {
    await schedule.delete();
  }
});

for (const kill of [false, true]) {
  const how = kill ? 'SIGKILL' : 'SIGTERM';
  test(`a workflow waiting across a server restart (${how}) completes after it`, async () => {
    const handle = await client.workflow.start(releasedGreetingWorkflow, { taskQueue, workflowId: `restart-${randomUUID()}`, args: [how] });
    // Its first workflow task ran: the workflow is blocked on the signal when the server goes down.
    await eventually(
      async () => (await handle.fetchHistory()).events?.some((event) => event.workflowTaskCompletedEventAttributes) ?? false,
      WORKFLOW_BOUND_MS,
      'the first workflow task of releasedGreetingWorkflow',
    );
    await within(cluster.restartServer({ kill }), START_BOUND_MS, `restartServer({ kill: ${kill} })`);
    await within(handle.signal(releaseSignal), WORKFLOW_BOUND_MS, 'the signal after the restart');
    assert.equal(await within(handle.result(), WORKFLOW_BOUND_MS, 'releasedGreetingWorkflow after the restart'), `Hello, ${how}!`);
  });
}

test('env() names the standard TEMPORAL_* client variables', () => {
  const env = cluster.env();
  assert.equal(env.TEMPORAL_ADDRESS, cluster.address);
  assert.equal(env.TEMPORAL_NAMESPACE, cluster.namespace);
  assert.equal(env.TEMPORAL_API_KEY, cluster.apiKey);
  assert.equal(env.TEMPORAL_TLS_CLIENT_CERT_PATH, cluster.tls.clientCertPath);
  assert.equal(env.TEMPORAL_TLS_CLIENT_KEY_PATH, cluster.tls.clientKeyPath);
  assert.equal(env.TEMPORAL_TLS_SERVER_CA_CERT_PATH, cluster.tls.serverCaPath);
  assert.equal(env.TEMPORAL_TLS_SERVER_NAME, cluster.tls.serverName);
});
