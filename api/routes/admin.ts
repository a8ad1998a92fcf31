import { Router, type RequestHandler } from 'express';
import { WorkflowUpdateFailedError, type Client } from '@temporalio/client';
import { z } from 'zod';
import type { AuditTrail } from '../../services/audit-trail';
import { forceBreaker, type BreakerBoard } from '../../services/breaker-board';
import { own } from '../../common/own';
import type { ConfigStore } from '../../services/config-store';
import { hashKey, keyFromRequest, matchDigest } from '../authenticate';
import { HttpError } from '../../dialects/http-error';
import { jsonBody } from '../json-body';
import { parseBody } from '../../dialects/parse-body';
import { requireReachableTemporal } from '../../client/temporal-unavailable';

const ForceBodySchema = z
  .object({
    mode: z.enum(['open', 'closed', 'auto']),
    reason: z.string().min(1).max(500),
  })
  .strict();

/**
 * `/admin`: operators' endpoints, behind the config's `admin.keySha256`
 * (tenant keys are refused). `GET /admin/breakers` lists every provider's
 * breaker; `POST /admin/breakers/:provider` forces one open (drain), closed,
 * or back to automatic; every switch is an audit event.
 */
export function adminRouter(options: {
  store: ConfigStore;
  client: Client;
  taskQueue: string;
  breakers: BreakerBoard | undefined;
  audit: AuditTrail | undefined;
  /** Largest body an admin request may send; read only once the key is checked. */
  maxBodyBytes: number;
}): Router {
  const router = Router();
  router.use('/admin', requireAdmin(options.store), jsonBody(options.maxBodyBytes));

  router.get('/admin/breakers', requireReachableTemporal(options.client, 'the breakers'), async (_request, response) => {
    const breakers = requireBoard(options.breakers);
    const known = new Map((await breakers.readAll()).map((view) => [view.key, view]));
    const data = Object.keys(options.store.loaded.config.providers).map(
      (providerId) => known.get(providerId) ?? { key: providerId, mode: 'closed', automaticMode: 'closed', forced: null, reason: null, started: false },
    );
    response.json({ object: 'list', data });
  });

  router.post('/admin/breakers/:provider', async (request, response) => {
    const breakers = requireBoard(options.breakers);
    const providerId = request.params.provider;
    const provider = own(options.store.loaded.config.providers, providerId);
    if (!provider) throw new HttpError(404, 'not_found_error', `no provider "${providerId}"`, { code: 'provider_not_found' });
    const body = parseBody(ForceBodySchema, request.body);
    const actor = String(response.locals.adminActor);
    try {
      const view = await forceBreaker(options.client, {
        taskQueue: options.taskQueue,
        providerId,
        settings: provider.breaker,
        input: { mode: body.mode, actor, reason: body.reason },
      });
      breakers.remember(view);
      recordAudit(options.audit, { audit: 'breaker_forced', provider: providerId, mode: body.mode, actor, reason: body.reason, via: 'admin api' });
      response.json(view);
    } catch (error) {
      if (error instanceof WorkflowUpdateFailedError) throw new HttpError(400, 'invalid_request_error', String((error.cause as Error | undefined)?.message ?? error.message));
      throw error;
    }
  });
  router.get('/admin/audit', async (request, response) => {
    if (!options.audit) throw new HttpError(503, 'service_unavailable', 'the audit trail is not available on this process');
    const query = parseBody(AuditQuerySchema, request.query);
    const events = await options.audit.query({ ...(query.audit === undefined ? {} : { audit: query.audit }), limit: query.limit });
    response.json({ object: 'list', data: events });
  });
  return router;
}

const AuditQuerySchema = z
  .object({
    audit: z.string().regex(/^[a-z_]{1,64}$/).optional(),
    limit: z.coerce.number().int().min(1).max(1_000).default(100),
  })
  .strict();

/** Records an admin action in the audit trail, or as a log line where there is none. */
function recordAudit(trail: AuditTrail | undefined, event: Record<string, unknown> & { audit: string }): void {
  if (trail) trail.record(event);
  else process.stderr.write(`${JSON.stringify({ time: new Date().toISOString(), ...event })}\n`);
}

function requireBoard(breakers: BreakerBoard | undefined): BreakerBoard {
  if (!breakers) throw new HttpError(503, 'service_unavailable', 'breakers are not available on this process');
  return breakers;
}

/** Admin keys only: `Authorization: Bearer <admin key>`, checked against `admin.keySha256`, before any body is read. */
export function requireAdmin(store: ConfigStore): RequestHandler {
  return (request, response, next) => {
    const key = keyFromRequest(request);
    const { config } = store.loaded;
    const digests = config.admin?.keySha256 ?? [];
    if (key && digests.length > 0 && matchDigest(digests, hashKey(key))) {
      // Audit trails name the key by its hash prefix, never the key.
      response.locals.adminActor = `admin:${hashKey(key).slice(0, 12)}`;
      next();
      return;
    }
    // The body stays unread: close the connection rather than drain megabytes an unauthenticated caller is still sending.
    if (request.headers['content-length'] !== undefined || request.headers['transfer-encoding'] !== undefined) response.set('connection', 'close');
    const tenantKeys = Object.values(config.tenants).flatMap((tenant) => tenant.keySha256);
    if (key && matchDigest(tenantKeys, hashKey(key))) {
      throw new HttpError(403, 'permission_error', 'this key belongs to a tenant; operators\' endpoints need an admin key', { code: 'admin_key_required' });
    }
    throw new HttpError(401, 'authentication_error', 'an admin key is required', { code: 'invalid_admin_key' });
  };
}
