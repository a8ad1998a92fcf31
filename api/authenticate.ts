import { createHash, timingSafeEqual } from 'node:crypto';
import type { RequestHandler } from 'express';
import type { GatewayConfig } from '../common/config-schema';
import { HttpError } from './http-error';

/** sha256 hex of a tenant key, as stored in config. */
export function hashKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

/**
 * Resolves `Authorization: Bearer <key>` (or Anthropic's `x-api-key`) to a
 * tenant by the key's hash; sets `response.locals.tenantId`.
 */
export function authenticate(currentTenants: () => GatewayConfig['tenants']): RequestHandler {
  // Rebuilt only when a config reload brings new tenants.
  const indexes = new WeakMap<GatewayConfig['tenants'], Map<string, string>>();
  const index = (tenants: GatewayConfig['tenants']): Map<string, string> => {
    let byHash = indexes.get(tenants);
    if (!byHash) {
      byHash = new Map();
      for (const [tenantId, tenant] of Object.entries(tenants)) {
        for (const digest of tenant.keySha256) byHash.set(digest, tenantId);
      }
      indexes.set(tenants, byHash);
    }
    return byHash;
  };
  return (request, response, next) => {
    const byHash = index(currentTenants());
    const header = request.header('authorization');
    const key = header?.match(/^Bearer\s+(.+)$/i)?.[1]?.trim() ?? request.header('x-api-key')?.trim();
    if (!key) {
      throw new HttpError(401, 'authentication_error', 'missing API key: send "Authorization: Bearer <key>"', {
        code: 'invalid_api_key',
      });
    }
    const digest = hashKey(key);
    const tenantId = lookup(byHash, digest);
    if (!tenantId) throw new HttpError(401, 'authentication_error', 'invalid API key', { code: 'invalid_api_key' });
    response.locals.tenantId = tenantId;
    next();
  };
}

function lookup(byHash: Map<string, string>, digest: string): string | undefined {
  // Constant-time compare of equal-length digests, so timing tells nothing about stored hashes.
  for (const [stored, tenantId] of byHash) {
    if (timingSafeEqual(Buffer.from(stored, 'hex'), Buffer.from(digest, 'hex'))) return tenantId;
  }
  return undefined;
}
