import { Router } from 'express';
import type { Client } from '@temporalio/client';

/** `GET /healthz`: the API is up and Temporal answers. 503 when Temporal does not. */
export function healthRouter(client: Client, currentVersion: () => string): Router {
  const router = Router();
  router.get('/healthz', async (_request, response) => {
    const configVersion = currentVersion();
    try {
      await client.withDeadline(Date.now() + 2_000, () => client.workflowService.getSystemInfo({}));
      response.json({ status: 'ok', temporal: 'ok', configVersion });
    } catch (error) {
      response.status(503).json({ status: 'degraded', temporal: 'unreachable', configVersion, error: (error as Error).message });
    }
  });
  return router;
}
