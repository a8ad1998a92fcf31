import type { CachedAnswer } from '../../common/response-schema';

/** Where cached answers live: a SQLite file (one host) or Redis (every process). */
export interface CacheStore {
  /** The answer stored under `key`, unless it is past its retention. */
  get(key: string): Promise<CachedAnswer | undefined>;
  /** Stores `answer` under `key`; it is deleted `retentionMs` later. */
  set(key: string, answer: CachedAnswer, retentionMs: number): Promise<void>;
  close(): Promise<void>;
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
