import { Router } from 'express';
import type { Client } from '@temporalio/client';
import { withinBound } from '../../client/temporal-unavailable';

/** How long `/healthz` waits for Temporal before it says Temporal is unreachable. */
const HEALTH_DEADLINE_MS = 2_000;

/**
 * `GET /healthz`: the API is up and Temporal answers. 503 when Temporal does
 * not, within `HEALTH_DEADLINE_MS` whatever the connection does (Core's
 * client retries an unreachable server for about ten seconds, deadline or not).
 * Anyone who reaches the port may ask, so the body says up or down and no
 * more: why Temporal failed (its message, address, stack) goes to the log.
 */
export function healthRouter(client: Client, currentVersion: () => string, log: (line: Record<string, unknown>) => void): Router {
  const router = Router();
  router.get('/healthz', async (_request, response) => {
    const configVersion = currentVersion();
    try {
      await withinBound(
        client.withDeadline(Date.now() + HEALTH_DEADLINE_MS, () => client.workflowService.getSystemInfo({})),
        HEALTH_DEADLINE_MS,
      );
      response.json({ status: 'ok', temporal: 'ok', configVersion });
    } catch (error) {
      log({ level: 'warn', msg: 'health check: Temporal unreachable', error: error instanceof Error ? error.message : String(error) });
      response.status(503).json({ status: 'degraded', temporal: 'unreachable', configVersion });
    }
  });
  return router;
}
