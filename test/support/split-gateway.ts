import { rememberTemporalAddress } from '../../runtime/temporal-reachability';
import type { ChildProcess } from 'node:child_process';
import { Client, Connection } from '@temporalio/client';
import { createApp } from '../../api/create-app';
import { listen } from '../../runtime/listen';
import { ConfigStore } from '../../services/config-store';
import { dataConverterFor } from '../../runtime/data-converter';
import { loadConfigFile } from '../../runtime/load-config';
import { readSettings } from '../../runtime/settings';
import type { Harness } from './gateway-harness';
import { spawnWorkerProcess } from './processes';

/** The API in this process and workers as processes of their own, which a test may SIGKILL. */
export interface SplitGateway {
  apiUrl: string;
  /** Every worker process started, oldest first. */
  workers: ChildProcess[];
  startWorker(): ChildProcess;
  /** SIGKILLs the newest worker, waits for it to die, and starts a new one. */
  replaceWorker(): Promise<void>;
  /** SIGKILLs the newest worker and waits until it is gone (start another with `startWorker`). */
  killWorker(): Promise<void>;
  stop(): Promise<void>;
}

/** For a harness started with `embeddedGateway: false`: the API on a free port, and one worker process. */
export async function startSplitGateway(harness: Harness): Promise<SplitGateway> {
  const connection = await Connection.connect({ address: harness.devServer.address });
  // As every process's services do: a slow start on a reachable server is waited for, not a 503.
  rememberTemporalAddress(connection, harness.devServer.address);
  const config = loadConfigFile(harness.configFile, harness.env);
  const api = await listen(
    createApp({ client: new Client({ connection, dataConverter: dataConverterFor(readSettings(harness.env)) }), store: new ConfigStore(config, harness.env), taskQueue: harness.env.SWITCHYARD_TASK_QUEUE ?? '', eagerStart: false }),
    '127.0.0.1',
    0,
  );
  const workers: ChildProcess[] = [];
  const startWorker = (): ChildProcess => {
    const child = spawnWorkerProcess(harness.env);
    workers.push(child);
    return child;
  };
  const killWorker = async (): Promise<void> => {
    const worker = workers.at(-1);
    if (worker && worker.exitCode === null && worker.signalCode === null) {
      worker.kill('SIGKILL');
      await new Promise((resolve) => worker.once('exit', resolve));
    }
  };
  startWorker();
  return {
    apiUrl: api.url,
    workers,
    startWorker,
    killWorker,
    async replaceWorker() {
      await killWorker();
      startWorker();
    },
    async stop() {
      for (const worker of workers) if (worker.exitCode === null && worker.signalCode === null) worker.kill('SIGKILL');
      await api.close();
      await connection.close();
    },
  };
}
