import express, { type Express, type Request } from 'express';
import type { Client } from '@temporalio/client';
import type { PayloadCodec } from '@temporalio/common';
import type { ConfigStore } from '../services/config-store';
import type { StreamingOptions } from '../client/run-request';
import type { AuditTrail } from '../services/audit-trail';
import type { BreakerBoard } from '../services/breaker-board';
import type { BudgetBoard } from '../services/budget-board';
import type { QualityBoard } from '../services/quality-board';
import type { ObservedStats } from '../services/observed-stats';
import type { LiveRouting } from '../services/routing-snapshot';
import { authenticate } from './authenticate';
import { TrafficSampler } from './dashboard-data';
import { adminRouter } from './routes/admin';
import { dashboardRouter } from './routes/dashboard';
import { codecRouter } from './routes/codec';
import { countHttpRequests, metricsRouter } from './routes/metrics';
import { errorMiddleware, HttpError } from '../dialects/http-error';
import { isTemporalUnavailable, temporalUnavailableError } from '../client/temporal-unavailable';
import { jsonBody } from './json-body';
import { chatCompletionsRouter } from './routes/chat-completions';
import { healthRouter } from './routes/health';
import { messagesRouter } from './routes/messages';
import { modelsRouter } from './routes/models';
import { requestsRouter } from './routes/requests';
import { spendRouter } from './routes/spend';
import { filesRouter } from './routes/files';
import { cacheRouter } from './routes/cache';
import { batchesRouter } from './routes/batches';
import { agentRunsRouter } from './routes/agent-runs';
import { routeExplainRouter } from './routes/route-explain';
import { countRunningJobs } from './running-jobs-metric';

/** Largest request body the API reads (bytes). */
export const MAX_BODY_BYTES = 2 * 1024 * 1024;

export interface AppDependencies {
  client: Client;
  /** The config in force; a reload applies to the next request. */
  store: ConfigStore;
  taskQueue: string;
  /** True when a worker shares this process's NativeConnection (the embedded default). */
  eagerStart: boolean;
  /** This process's streaming worker; without it `stream: true` is refused with a 400. */
  streaming?: StreamingOptions;
  /** This process's view of the shared breakers, for `/admin/breakers` and routing. */
  breakers?: BreakerBoard;
  /** This process's side of the shared budgets and eval scores: routing's pre-check and `/v1/route/explain` read them as the workflow does. */
  budgets?: BudgetBoard;
  quality?: QualityBoard;
  /**
   * The call statistics of a worker in this process (the embedded default):
   * the API then routes as that worker would and hands each request its
   * routing snapshot, which the workflow would otherwise take in a local activity.
   */
  stats?: ObservedStats;
  /** The shared audit trail, for admin actions and `/admin/audit`. */
  audit?: AuditTrail;
  /** The history codec, served at `/codec` for the Temporal UI and CLI. */
  codec?: PayloadCodec;
  /** Base URL of the Temporal Web UI, for the dashboard's links. @default http://127.0.0.1:8233 */
  temporalUiUrl?: string;
  log?: (line: Record<string, unknown>) => void;
}

/** The HTTP API, without `listen()`, so tests and the embedded process mount it the same way. */
export function createApp({
  client,
  store,
  taskQueue,
  eagerStart,
  streaming,
  breakers,
  budgets,
  quality,
  stats,
  audit,
  codec,
  temporalUiUrl = 'http://127.0.0.1:8233',
  log = jsonLog,
}: AppDependencies): Express {
  const sampler = new TrafficSampler();
  sampler.start();
  const currentConfig = () => store.loaded.config;
  const runner = { client, taskQueue, eagerStart, streaming, log };
  countRunningJobs(client);
  const app = express();
  app.disable('x-powered-by');
  app.use(countHttpRequests());
  app.use(healthRouter(client, () => store.loaded.version, log));
  app.use(metricsRouter(store));
  // Both check the admin key before they read a body: an anonymous caller cannot make the API buffer megabytes.
  if (codec) app.use(codecRouter({ codec, store, maxBodyBytes: 16 * MAX_BODY_BYTES }));
  app.use(adminRouter({ store, client, taskQueue, breakers, audit, maxBodyBytes: MAX_BODY_BYTES }));
  app.use(dashboardRouter({ client, store, sampler, breakers, temporalUiUrl }));
  // Spend is an operators' report: the admin key, not a tenant key.
  app.use(spendRouter(client, store));
  app.use('/v1', authenticate(() => currentConfig().tenants), jsonBody(MAX_BODY_BYTES));
  app.use(modelsRouter(currentConfig, Math.floor(Date.now() / 1000)));
  const live: LiveRouting = { breakers, budgets, quality, ...(stats ? { stats } : {}) };
  app.use(chatCompletionsRouter(store, runner, live));
  app.use(messagesRouter(store, runner, live));
  app.use(requestsRouter(client));
  app.use(routeExplainRouter(store, live));
  app.use(filesRouter(store));
  app.use(cacheRouter(store));
  app.use(batchesRouter(store, client, taskQueue));
  app.use(agentRunsRouter(store, client, taskQueue));
  app.use((request, _response, next) => {
    next(new HttpError(404, 'not_found_error', `no route for ${request.method} ${request.path}`, { code: 'unknown_route' }));
  });
  app.use(errorMiddleware(log, readsOfUnreachableTemporal));
  return app;
}

/**
 * A read (GET) that failed for want of Temporal is a 503 wherever it comes
 * from: it started nothing, so a retry is safe. Writes are answered by their
 * routes, which know whether Temporal took the request before it went away.
 */
function readsOfUnreachableTemporal(error: unknown, request: Request): HttpError | undefined {
  return (request.method === 'GET' || request.method === 'HEAD') && isTemporalUnavailable(error) ? temporalUnavailableError(undefined, error) : undefined;
}

function jsonLog(line: Record<string, unknown>): void {
  process.stderr.write(`${JSON.stringify({ time: new Date().toISOString(), ...line })}\n`);
}
