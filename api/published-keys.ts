import ipaddr from 'ipaddr.js';
import type { GatewayConfig } from '../common/config-schema';
import { hashKey } from './authenticate';

/**
 * The development keys the README and config/mock.yaml publish. Anyone can
 * read them, so a gateway that accepts one serves only its own machine.
 */
export const PUBLISHED_KEYS = ['switchyard-dev-key', 'switchyard-dev-admin-key'] as const;

const PUBLISHED_DIGESTS = new Set(PUBLISHED_KEYS.map(hashKey));

/** Whether `host` (a bind address) reaches only this machine. */
export function isLoopbackHost(host: string): boolean {
  if (host === 'localhost') return true;
  const bare = host.replace(/^\[(.*)\]$/, '$1');
  return ipaddr.isValid(bare) && ipaddr.process(bare).range() === 'loopback';
}

/**
 * Refuses to listen beyond loopback with a config that accepts a published
 * key (tenant or admin): `HOST=0.0.0.0` on the development config would hand
 * the gateway, and its providers' keys, to anyone who read the README.
 */
export function assertNoPublishedKeysBeyondLoopback(config: GatewayConfig, host: string): void {
  if (isLoopbackHost(host)) return;
  const digests = [...Object.values(config.tenants).flatMap((tenant) => tenant.keySha256), ...(config.admin?.keySha256 ?? [])];
  if (digests.some((digest) => PUBLISHED_DIGESTS.has(digest))) {
    throw new Error(
      `refusing to listen on ${host}: the config accepts a published development key (config/mock.yaml's). ` +
        'Listen on 127.0.0.1, or use a config with keys of your own (config/gateway.yaml with SWITCHYARD_TENANT_KEY_SHA256 and SWITCHYARD_ADMIN_KEY_SHA256)',
    );
  }
}
