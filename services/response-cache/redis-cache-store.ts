import { createClient } from 'redis';
import type { CacheStore } from './cache-store';

const PREFIX = 'switchyard:answer:';
/** How long a lookup waits for the first connection; a Redis that is down after that is a miss at once. */
const FIRST_CONNECT_WAIT_MS = 1_000;

/** The shared cache: every API and worker process reads and writes one Redis; retention is the key's expiry. */
export class RedisCacheStore implements CacheStore {
  private readonly client;
  private readonly connected: Promise<unknown>;

  constructor(url: string, log?: (line: Record<string, unknown>) => void) {
    // No offline queue: while Redis is down a command fails at once (a miss), instead of waiting for the activity's timeout.
    this.client = createClient({
      url,
      disableOfflineQueue: true,
      socket: { connectTimeout: 5_000, reconnectStrategy: (retries) => Math.min(retries * 200, 5_000) },
    });
    // Without a listener, a lost connection would crash the process; the cache is never worth that.
    this.client.on('error', (error: unknown) => log?.({ level: 'warn', msg: 'redis cache error', error: String(error) }));
    this.connected = this.client.connect().catch((error: unknown) => log?.({ level: 'warn', msg: 'redis cache unreachable', error: String(error) }));
  }

  async get(key: string): Promise<string | undefined> {
    await this.ready();
    return (await this.client.get(PREFIX + key)) ?? undefined;
  }

  async set(key: string, value: string, storedAt: number, retentionMs: number): Promise<void> {
    await this.ready();
    const remainingMs = storedAt + retentionMs - Date.now();
    await this.client.set(PREFIX + key, value, { expiration: { type: 'PX', value: Math.max(1, Math.round(remainingMs)) } });
  }

  /** SCANs the tenant's prefix (never KEYS, which blocks Redis) and deletes what it finds. */
  async purgeTenant(tenantId: string): Promise<number> {
    await this.ready();
    let deleted = 0;
    for await (const keys of this.client.scanIterator({ MATCH: `${PREFIX}${escapeGlob(tenantId)}:*`, COUNT: 500 })) {
      if (keys.length > 0) deleted += await this.client.unlink(keys);
    }
    return deleted;
  }

  private async ready(): Promise<void> {
    if (this.client.isReady) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.connected, new Promise((wake) => (timer = setTimeout(wake, FIRST_CONNECT_WAIT_MS)))]);
    clearTimeout(timer);
    if (!this.client.isReady) throw new Error('the redis cache is unreachable');
  }

  async close(): Promise<void> {
    await Promise.race([this.connected, Promise.resolve()]);
    // A client still reconnecting (Redis down) has nothing to flush; `close` would wait on it.
    if (this.client.isReady) await this.client.close();
    else if (this.client.isOpen) this.client.destroy();
  }
}

/** A tenant id as a literal in a SCAN pattern. */
function escapeGlob(text: string): string {
  return text.replace(/[*?[\]\\]/g, (character) => `\\${character}`);
}
