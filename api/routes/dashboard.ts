import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Router } from 'express';
import type { Client } from '@temporalio/client';
import type { BreakerBoard } from '../../services/breaker-board';
import type { ConfigStore } from '../../services/config-store';
import { dashboardData, type TrafficSampler } from '../dashboard-data';
import { requireAdmin } from './admin';

const PAGE = resolve(__dirname, '../dashboard/dashboard.html');

/**
 * `GET /dashboard`: the page (static, no data in it; it asks for an admin
 * key), and `GET /admin/dashboard/data`: what it shows — traffic and latency
 * over the last hour, fallbacks by reason, per-provider success rate, latency,
 * spend and breaker state, and the latest failovers linked to the Temporal UI.
 */
export function dashboardRouter(options: {
  client: Client;
  store: ConfigStore;
  sampler: TrafficSampler;
  breakers: BreakerBoard | undefined;
  temporalUiUrl: string;
}): Router {
  const router = Router();
  const page = readFileSync(PAGE, 'utf8');
  router.get('/dashboard', (_request, response) => {
    response.type('html').set('cache-control', 'no-store').send(page);
  });
  router.get('/admin/dashboard/data', requireAdmin(options.store), async (_request, response) => {
    response.json(
      await dashboardData({
        client: options.client,
        config: options.store.loaded.config,
        sampler: options.sampler,
        breakers: options.breakers,
        temporalUiUrl: options.temporalUiUrl,
      }),
    );
  });
  return router;
}
