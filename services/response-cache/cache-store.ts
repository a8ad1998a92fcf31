import type { CachedAnswer } from '../../common/response-schema';

/**
 * Where cached answers live: a SQLite file (one host) or Redis (every
 * process). Values are opaque text (sealed when history keys are set); keys
 * are `<tenant id>:<hash>` (see `tenantCacheKey`), so a tenant's entries can
 * be purged together.
 */
export interface CacheStore {
  /** The value stored under `key`, unless it is past its retention. */
  get(key: string): Promise<string | undefined>;
  /** Stores `value` under `key`; it is deleted `retentionMs` after `storedAt`. */
  set(key: string, value: string, storedAt: number, retentionMs: number): Promise<void>;
  /** Deletes every entry of the tenant's; returns how many. */
  purgeTenant(tenantId: string): Promise<number>;
  close(): Promise<void>;
}

/** The store's key of a request's cache key: the tenant first, so its entries share a prefix. */
export function tenantCacheKey(tenantId: string, hash: string): string {
  return `${tenantId}:${hash}`;
}

/** The tenant of a store key (`tenantCacheKey`). */
export function tenantOfCacheKey(key: string): string {
  const separator = key.indexOf(':');
  if (separator <= 0) throw new Error(`cache key "${key}" names no tenant`);
  return key.slice(0, separator);
}

/** A stored value read back, or undefined when it is not a cached answer (a foreign or damaged entry). */
export function parseCachedAnswer(text: string | null | undefined): CachedAnswer | undefined {
  if (typeof text !== 'string') return undefined;
  try {
    const value = JSON.parse(text) as Partial<CachedAnswer>;
    if (typeof value.model !== 'string' || typeof value.provider !== 'string' || typeof value.storedAt !== 'number') return undefined;
    if (typeof value.output !== 'object' || value.output === null) return undefined;
    return value as CachedAnswer;
  } catch {
    return undefined;
  }
}
