import { resolve } from 'node:path';
import type { CacheConfig } from '../../common/config-schema';
import type { CanonicalRequest } from '../../common/request-schema';
import type { CachedAnswer } from '../../common/response-schema';
import type { ConfigStore } from '../config-store';
import { atRestCipherFor, type AtRestCipher } from '../../runtime/at-rest-cipher';
import { settingsOf } from '../../runtime/settings';
import { cacheKey } from './cache-key';
import { parseCachedAnswer, tenantCacheKey, type CacheStore } from './cache-store';
import { RedisCacheStore } from './redis-cache-store';
import { SqliteCacheStore } from './sqlite-cache-store';

export interface CacheLookup {
  key: string;
  /** The stored answer, however old (the workflow decides between hit, stale and nothing). */
  entry?: CachedAnswer;
}

/**
 * This process's side of the response cache: the store the config in force
 * names (opened on first use, reopened when a reload names another), keys
 * computed from the canonical request and prefixed with its tenant. With
 * history keys set, answers are sealed (see `AtRestCipher`) under their key:
 * an entry this process cannot open (plaintext from before the keys, a key
 * since dropped from the ring) is a miss. A store that fails is a miss, never
 * a failed request.
 */
export class ResponseCache {
  private opened: { id: string; store: CacheStore } | undefined;

  constructor(
    private readonly configStore: ConfigStore,
    private readonly log: (line: Record<string, unknown>) => void = () => undefined,
  ) {}

  async lookup(request: CanonicalRequest, resolvedFrom: string): Promise<CacheLookup> {
    const key = tenantCacheKey(request.tenantId, cacheKey(request, resolvedFrom));
    try {
      const stored = await this.store().get(key);
      const entry = stored === undefined ? undefined : parseCachedAnswer(this.cipher().openText(stored, key));
      return entry === undefined ? { key } : { key, entry };
    } catch (error) {
      this.log({ level: 'warn', msg: 'cache lookup failed', error: String(error) });
      return { key };
    }
  }

  async save(key: string, answer: CachedAnswer): Promise<void> {
    try {
      const value = this.cipher().sealText(JSON.stringify(answer), key);
      await this.store().set(key, value, answer.storedAt, this.configStore.loaded.config.cache.retentionSeconds * 1000);
    } catch (error) {
      this.log({ level: 'warn', msg: 'cache store failed', error: String(error) });
    }
  }

  /** Deletes every cached answer of the tenant's, in the store the config in force names; returns how many. */
  async purgeTenant(tenantId: string): Promise<number> {
    return this.store().purgeTenant(tenantId);
  }

  async close(): Promise<void> {
    await this.opened?.store.close();
    this.opened = undefined;
  }

  private cipher(): AtRestCipher {
    return atRestCipherFor(this.configStore.env);
  }

  private store(): CacheStore {
    const settings = this.configStore.loaded.config.cache;
    const target = this.target(settings);
    if (this.opened?.id !== target.id) {
      const previous = this.opened?.store;
      this.opened = { id: target.id, store: target.open() };
      void previous?.close().catch(() => undefined);
    }
    return this.opened.store;
  }

  private target(settings: CacheConfig): { id: string; open(): CacheStore } {
    if (settings.store === 'redis') {
      const url = this.configStore.env[settings.redisUrlEnv];
      if (!url) throw new Error(`cache.store is redis but ${settings.redisUrlEnv} is not set`);
      return { id: `redis:${url}`, open: () => new RedisCacheStore(url, this.log) };
    }
    const file = resolve(settingsOf(this.configStore.env).dataDir, settings.sqliteFile ?? 'cache.sqlite');
    return { id: `sqlite:${file}`, open: () => new SqliteCacheStore(file) };
  }
}
