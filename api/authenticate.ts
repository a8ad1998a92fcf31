import { createHash, timingSafeEqual } from 'node:crypto';
import type { Request, RequestHandler } from 'express';
import type { GatewayConfig } from '../common/config-schema';
import { HttpError } from '../dialects/http-error';

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
    const key = keyFromRequest(request);
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

/** The key a caller sent: `Authorization: Bearer <key>` or Anthropic's `x-api-key`. */
export function keyFromRequest(request: Request): string | undefined {
  const header = request.header('authorization');
  return header?.match(/^Bearer\s+(.+)$/i)?.[1]?.trim() ?? request.header('x-api-key')?.trim() ?? undefined;
}

/** Whether `digest` is one of `stored`, compared in constant time. */
export function matchDigest(stored: Iterable<string>, digest: string): boolean {
  return findDigest(stored, digest) !== undefined;
}

/** The stored digest equal to `digest` (constant-time compares, all of them made), or undefined. */
function findDigest(stored: Iterable<string>, digest: string): string | undefined {
  let found: string | undefined;
  for (const candidate of stored) {
    if (candidate.length === digest.length && timingSafeEqual(Buffer.from(candidate, 'hex'), Buffer.from(digest, 'hex'))) found = candidate;
  }
  return found;
}

function lookup(byHash: Map<string, string>, digest: string): string | undefined {
  const found = findDigest(byHash.keys(), digest);
  return found === undefined ? undefined : byHash.get(found);
}
