import { createClient } from 'redis';
import type { CachedAnswer } from '../../common/response-schema';
import { parseCachedAnswer, type CacheStore } from './cache-store';

const PREFIX = 'switchyard:answer:';

/** The shared cache: every API and worker process reads and writes one Redis; retention is the key's expiry. */
export class RedisCacheStore implements CacheStore {
  private readonly client;
  private readonly connected: Promise<unknown>;

  constructor(url: string, log?: (line: Record<string, unknown>) => void) {
    this.client = createClient({ url, socket: { connectTimeout: 5_000, reconnectStrategy: (retries) => Math.min(retries * 200, 5_000) } });
    // Without a listener, a lost connection would crash the process; the cache is never worth that.
    this.client.on('error', (error: unknown) => log?.({ level: 'warn', msg: 'redis cache error', error: String(error) }));
    this.connected = this.client.connect();
  }

  async get(key: string): Promise<CachedAnswer | undefined> {
    await this.connected;
    return parseCachedAnswer(await this.client.get(PREFIX + key));
  }

  async set(key: string, answer: CachedAnswer, retentionMs: number): Promise<void> {
    await this.connected;
    await this.client.set(PREFIX + key, JSON.stringify(answer), { expiration: { type: 'PX', value: Math.max(1, Math.round(retentionMs)) } });
  }

  async close(): Promise<void> {
    await this.connected.catch(() => undefined);
    if (this.client.isOpen) await this.client.close();
  }
}
