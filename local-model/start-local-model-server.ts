import { availableParallelism } from 'node:os';
import { listen } from '../runtime/listen';
import type { EmbeddedModelConfig } from '../common/config-schema';
import { createLocalModelApp, type LocalServerCounters } from './create-server';
import { LocalModelEngine } from './engine';
import { ensureModelFile } from './model-file';
import { SlotQueue } from './slot-queue';

export interface LocalModelServer {
  /** Base URL of the OpenAI-compatible API, e.g. `http://127.0.0.1:8090/v1`. */
  baseUrl: string;
  modelId: string;
  modelPath: string;
  counters: LocalServerCounters;
  /** Admission: who runs, who waits. */
  queue: SlotQueue;
  close(): Promise<void>;
}

/** Fetches the model when needed, loads it on the CPU and serves it over HTTP. */
export async function startLocalModelServer(options: {
  settings: EmbeddedModelConfig;
  host: string;
  port: number;
  dataDir: string;
  /** Where a relative GGUF path starts (the config file's folder). */
  baseDir?: string;
  python?: string;
  log: (line: Record<string, unknown>) => void;
}): Promise<LocalModelServer> {
  const { settings, log } = options;
  const file = await ensureModelFile(settings.model, {
    dataDir: options.dataDir,
    ...(options.baseDir === undefined ? {} : { baseDir: options.baseDir }),
    ...(options.python === undefined ? {} : { python: options.python }),
    log: (msg) => log({ level: 'info', msg }),
  });
  const engine = await LocalModelEngine.load({
    id: file.id,
    modelPath: file.path,
    threads: settings.threads ?? availableParallelism(),
    slots: settings.slots,
    contextSize: settings.contextSize,
    maxOutputTokens: settings.maxOutputTokens,
    defaultTemperature: settings.defaultTemperature,
    log: (level, msg) => log({ level, msg: `llama.cpp: ${msg}` }),
  });
  const queue = new SlotQueue(settings.slots, settings.queue, settings.queueTimeoutMs);
  const { app, counters } = createLocalModelApp({ engine, queue, log });
  const server = await listen(app, options.host, options.port).catch(async (error: unknown) => {
    await engine.close();
    throw error;
  });
  return {
    baseUrl: `${server.url}/v1`,
    modelId: engine.id,
    modelPath: file.path,
    counters,
    queue,
    async close() {
      server.server.closeAllConnections();
      await server.close();
      await engine.close();
    },
  };
}
