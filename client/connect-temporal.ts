import { Client, Connection } from '@temporalio/client';
import { dataConverterFor } from '../runtime/data-converter';
import { readSettings } from '../runtime/settings';

export interface TemporalClientConnection {
  client: Client;
  close(): Promise<void>;
}

/**
 * A Temporal client for the gateway's namespace, connected as every Temporal
 * application connects (`@temporalio/envconfig`: the profile and the
 * `TEMPORAL_*` variables of `env`; see runtime/temporal-connection.ts), with
 * the gateway's data converter (history encryption from
 * `SWITCHYARD_HISTORY_KEYS`, large payloads), so what it starts and reads is
 * encoded as the gateway's workers expect.
 */
export async function connectTemporal(env: NodeJS.ProcessEnv = process.env): Promise<TemporalClientConnection> {
  const settings = readSettings(env);
  const connection = await Connection.connect(settings.temporal.options);
  const client = new Client({ connection, namespace: settings.temporal.namespace, dataConverter: dataConverterFor(settings) });
  return { client, close: () => connection.close() };
}
