import { Router, type RequestHandler } from 'express';
import { metrics, registry } from '../../runtime/metrics';

/**
 * `GET /metrics`: Prometheus text exposition of this process (the API's, and
 * in the embedded default the worker's too). It holds counts and timings by
 * bounded labels only: no prompt, key, user id or workflow id.
 */
export function metricsRouter(): Router {
  const router = Router();
  router.get('/metrics', async (_request, response) => {
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
