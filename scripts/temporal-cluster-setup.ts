// What a fresh cluster needs before tests use it, over the public frontend
// with mTLS and the API key: waiting until it answers, the namespace, and the
// gateway's search attributes. Each step retries until a deadline, then fails
// naming the last error.
import { readFileSync } from 'node:fs';
import { Connection, isGrpcServiceError } from '@temporalio/client';
import { google, temporal } from '@temporalio/proto';
import { GATEWAY_SEARCH_ATTRIBUTES } from '../common/search-attributes';

/** gRPC status codes (the wire values of the gRPC spec). */
const GRPC_ALREADY_EXISTS = 6;
const GRPC_PERMISSION_DENIED = 7;
const GRPC_UNAUTHENTICATED = 16;
const GRPC_INVALID_ARGUMENT = 3;
/** Retrying these cannot help: the setup itself is wrong. */
const PERMANENT_CODES = new Set([GRPC_PERMISSION_DENIED, GRPC_UNAUTHENTICATED, GRPC_INVALID_ARGUMENT]);
const POLL_INTERVAL_MS = 250;
const CONNECT_TIMEOUT_MS = 3_000;
const NAMESPACE_RETENTION_SECONDS = 24 * 3600;

export interface ClusterConnectionOptions {
  address: string;
  apiKey?: string;
  tls: { serverCaPath: string; serverName: string; client: { certPath: string; keyPath: string } };
}

export interface Bound {
  /** `Date.now()` past which a step gives up. */
  deadline: number;
  /** Throws when the server process is gone: no point waiting for it. */
  assertRunning(): void;
}

/** A client connection with mTLS (and the API key when given). */
export function connectToCluster(options: ClusterConnectionOptions): Promise<Connection> {
  return Connection.connect({
    address: options.address,
    connectTimeout: CONNECT_TIMEOUT_MS,
    ...(options.apiKey ? { apiKey: options.apiKey } : {}),
    tls: {
      serverNameOverride: options.tls.serverName,
      serverRootCACertificate: readFileSync(options.tls.serverCaPath),
      clientCertPair: { crt: readFileSync(options.tls.client.certPath), key: readFileSync(options.tls.client.keyPath) },
    },
  });
}

/** Resolves once the frontend answers `GetSystemInfo` (and `DescribeNamespace` for `namespace`, when given). */
export async function waitForFrontend(options: ClusterConnectionOptions, bound: Bound, namespace?: string): Promise<void> {
  await retry(`temporal-server at ${options.address} did not answer${namespace ? ` for namespace ${namespace}` : ''}`, bound, async () => {
    const connection = await connectToCluster(options);
    try {
      await connection.workflowService.getSystemInfo({});
      if (namespace) await connection.workflowService.describeNamespace({ namespace });
    } finally {
      await connection.close();
    }
  });
}

/** Registers `namespace` (an existing one is fine) and waits until the frontend knows it. */
export async function registerNamespace(connection: Connection, namespace: string, bound: Bound): Promise<void> {
  // fromObject takes a plain number for the int64 field.
  const retention = google.protobuf.Duration.fromObject({ seconds: NAMESPACE_RETENTION_SECONDS });
  await retry(`could not register namespace ${namespace}`, bound, async () => {
    try {
      await connection.workflowService.registerNamespace({ namespace, workflowExecutionRetentionPeriod: retention });
    } catch (error) {
      if (!(isGrpcServiceError(error) && error.code === GRPC_ALREADY_EXISTS)) throw error;
    }
  });
  // The frontend's namespace cache refreshes every few seconds.
  await retry(`namespace ${namespace} was registered but the frontend does not know it`, bound, async () => {
    await connection.workflowService.describeNamespace({ namespace });
  });
}

/** The gateway's search attributes (common/search-attributes.ts) as the operator API types them. */
export function gatewaySearchAttributeTypes(): Record<string, temporal.api.enums.v1.IndexedValueType> {
  const types = temporal.api.enums.v1.IndexedValueType;
  return Object.fromEntries(
    GATEWAY_SEARCH_ATTRIBUTES.map((key) => {
      const type = types[`INDEXED_VALUE_TYPE_${key.type}` as keyof typeof types];
      if (type === undefined) throw new Error(`search attribute ${key.name} has type ${key.type}, which the operator API does not know`);
      return [key.name, type];
    }),
  );
}

/** Adds whichever of the gateway's search attributes `namespace` lacks, and waits until all are listed. */
export async function registerSearchAttributes(connection: Connection, namespace: string, bound: Bound): Promise<void> {
  const wanted = gatewaySearchAttributeTypes();
  const missing = async () => {
    const { customAttributes } = await connection.operatorService.listSearchAttributes({ namespace });
    return Object.fromEntries(Object.entries(wanted).filter(([name]) => !(customAttributes && name in customAttributes)));
  };
  await retry(`could not add search attributes to namespace ${namespace}`, bound, async () => {
    const toAdd = await missing();
    if (Object.keys(toAdd).length > 0) {
      try {
        await connection.operatorService.addSearchAttributes({ namespace, searchAttributes: toAdd });
      } catch (error) {
        if (!(isGrpcServiceError(error) && error.code === GRPC_ALREADY_EXISTS)) throw error;
      }
    }
    const stillMissing = Object.keys(await missing());
    if (stillMissing.length > 0) throw new Error(`not listed yet: ${stillMissing.join(', ')}`);
  });
}

/** Runs `attempt` until it resolves; past the deadline, or on a permanent error, fails with `what` and the last error. */
async function retry(what: string, bound: Bound, attempt: () => Promise<void>): Promise<void> {
  for (;;) {
    bound.assertRunning();
    try {
      await attempt();
      return;
    } catch (error) {
      const permanent = isGrpcServiceError(error) && PERMANENT_CODES.has(error.code);
      if (permanent || Date.now() > bound.deadline) {
        bound.assertRunning();
        throw new Error(`${what}${permanent ? '' : ' in time'}: ${(error as Error).message}`, { cause: error });
      }
    }
    await new Promise((wake) => setTimeout(wake, POLL_INTERVAL_MS));
  }
}
