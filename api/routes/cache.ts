import { Router } from 'express';
import { ResponseCache } from '../../services/response-cache/response-cache';
import { own } from '../../common/own';
import type { ConfigStore } from '../../services/config-store';
import { HttpError } from '../../dialects/http-error';
import { requireAdmin } from './admin';

/**
 * Purging the response cache: `DELETE /v1/cache` deletes the calling
 * tenant's cached answers (its tenant key), `DELETE /admin/cache/:tenant`
 * any tenant's (the admin key). Other tenants' entries are never touched.
 */
export function cacheRouter(store: ConfigStore): Router {
  const router = Router();
  // Opened per call and closed after: purges are rare, and an open Redis client would keep the API process alive past shutdown.
  const purge = async (tenantId: string) => {
    const cache = new ResponseCache(store);
    try {
      return { object: 'cache.purge', tenant: tenantId, deleted: await cache.purgeTenant(tenantId) };
    } finally {
      await cache.close();
    }
  };

  router.delete('/v1/cache', async (_request, response) => {
    response.json(await purge(response.locals.tenantId as string));
  });

  router.delete('/admin/cache/:tenant', requireAdmin(store), async (request, response) => {
    const tenantId = String(request.params.tenant ?? '');
    if (!own(store.loaded.config.tenants, tenantId)) throw new HttpError(404, 'not_found_error', `no tenant "${tenantId}"`, { code: 'tenant_not_found' });
    response.json(await purge(tenantId));
  });
  return router;
}
