import { Router, type RequestHandler } from 'express';
import type { ConfigStore } from '../../services/config-store';
import { metrics, registry } from '../../runtime/metrics';
import { requireAdmin } from './admin';

/**
 * `GET /metrics` on the API's port (admin key): Prometheus text exposition
 * of this process (the API's, and in the embedded default the worker's too).
 * It holds counts and timings by bounded labels only — no prompt, key, user
 * id or workflow id — but those labels name every tenant and its spend, so
 * the port callers reach answers only operators. Prometheus scrapes the
 * open metrics listener instead (`METRICS_HOST`:`METRICS_PORT`,
 * runtime/serve-metrics.ts), which a deployment keeps off the public network.
 */
export function metricsRouter(store: ConfigStore): Router {
  const router = Router();
  router.get('/metrics', requireAdmin(store), async (_request, response) => {
    response.type(registry.contentType).send(await registry.metrics());
  });
  return router;
}

/** Counts every answered HTTP request by its route pattern (never the raw path), method and status. */
export function countHttpRequests(): RequestHandler {
  return (request, response, next) => {
    response.once('finish', () => {
      const pattern = (request.route as { path?: unknown } | undefined)?.path;
      const route = typeof pattern === 'string' ? `${request.baseUrl}${pattern}` : 'unmatched';
      metrics.httpRequests.inc({ route, method: request.method, status: String(response.statusCode) });
    });
    next();
  };
}
