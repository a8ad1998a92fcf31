import { createHash } from 'node:crypto';
import type { CanonicalRequest } from '../../common/request-schema';

/** Bumped when the key's ingredients change, so old entries are never misread. */
const KEY_VERSION = 1;

/**
 * The cache key of a request: sha256 of what decides its answer — the
 * tenant (entries never cross tenants), the resolved route, the messages,
 * tools, tool choice, output format and sampling parameters. The request id,
 * tags and the end-user id are left out.
 */
export function cacheKey(request: CanonicalRequest, resolvedFrom: string): string {
  const sampling = Object.fromEntries(Object.entries(request.sampling).sort(([left], [right]) => left.localeCompare(right)));
  const material = JSON.stringify([
    KEY_VERSION,
    request.tenantId,
    resolvedFrom,
    request.messages,
    request.tools ?? null,
    request.toolChoice ?? null,
    request.output ?? null,
    sampling,
  ]);
  return createHash('sha256').update(material).digest('hex');
}
