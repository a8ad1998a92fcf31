import { AesGcmOpenError, KeyRing, openAesGcm, sealAesGcm, type HistoryKey } from './aes-gcm';
import { settingsOf } from './settings';

/** Marks a sealed value; anything else is plaintext written before keys were set. */
const MAGIC = Buffer.from('SWYSEAL1');
/** The text form (SQLite, Redis) of a sealed value: this prefix and its base64. */
const TEXT_PREFIX = 'swyseal1:';

/** A stored value this process cannot read: sealed under a key it lacks, damaged, or plaintext while keys are set. */
export class UnreadableAtRestError extends Error {
  override readonly name = 'UnreadableAtRestError';
}

/**
 * Data at rest (cached answers, batch files) sealed with the history key ring
 * and the history codec's cipher, AES-256-GCM: the first key seals, the key
 * id is written in the clear in front of the ciphertext (and authenticated
 * with it), so after a rotation the older keys still open what they sealed.
 * `context` (a cache key, a tenant's file id) is authenticated too: a value
 * copied under another name, another tenant's, does not open. Without keys
 * values pass through unsealed.
 */
export class AtRestCipher {
  private readonly ring: KeyRing;

  constructor(ring: readonly HistoryKey[]) {
    this.ring = new KeyRing(ring);
  }

  private get current(): HistoryKey | undefined {
    return this.ring.current;
  }

  /** Whether values are sealed (history keys are set). */
  get seals(): boolean {
    return this.current !== undefined;
  }

  seal(plain: Buffer | string, context: string): Buffer {
    const body = typeof plain === 'string' ? Buffer.from(plain, 'utf8') : plain;
    if (!this.current) return body;
    const id = Buffer.from(this.current.id, 'utf8');
    const header = Buffer.concat([MAGIC, Buffer.from([id.length]), id]);
    return Buffer.concat([header, sealAesGcm(this.current.key, body, Buffer.concat([header, Buffer.from(context, 'utf8')]))]);
  }

  /** The plaintext of a stored value; throws `UnreadableAtRestError` rather than return what it cannot vouch for. */
  open(stored: Buffer, context: string): Buffer {
    if (!isSealed(stored)) {
      if (this.current) throw new UnreadableAtRestError('the value is stored in plaintext but history keys are set');
      return stored;
    }
    const idLength = stored[MAGIC.length] ?? 0;
    const headerLength = MAGIC.length + 1 + idLength;
    const keyId = stored.subarray(MAGIC.length + 1, headerLength).toString('utf8');
    const key = this.ring.key(keyId);
    if (!key) throw new UnreadableAtRestError(`no history key "${keyId}" to open this value (keep old keys in the ring after a rotation)`);
    try {
      return openAesGcm(key, stored.subarray(headerLength), Buffer.concat([stored.subarray(0, headerLength), Buffer.from(context, 'utf8')]));
    } catch (error) {
      if (!(error instanceof AesGcmOpenError)) throw error;
      if (error.reason === 'too_short') throw new UnreadableAtRestError('the sealed value is too short');
      throw new UnreadableAtRestError('the sealed value does not authenticate (damaged, or stored under another name)');
    }
  }

  /** `seal` for text stores: a prefixed base64 string, or `plain` itself without keys. */
  sealText(plain: string, context: string): string {
    return this.current ? TEXT_PREFIX + this.seal(plain, context).toString('base64') : plain;
  }

  openText(stored: string, context: string): string {
    if (!stored.startsWith(TEXT_PREFIX)) return this.open(Buffer.from(stored, 'utf8'), context).toString('utf8');
    return this.open(Buffer.from(stored.slice(TEXT_PREFIX.length), 'base64'), context).toString('utf8');
  }
}

function isSealed(stored: Buffer): boolean {
  return stored.length > MAGIC.length && stored.subarray(0, MAGIC.length).equals(MAGIC);
}

const ciphers = new WeakMap<object, AtRestCipher>();

/** The cipher of a process's environment (its history keys), built once per environment object. */
export function atRestCipherFor(env: Readonly<Record<string, string | undefined>>): AtRestCipher {
  let cipher = ciphers.get(env);
  if (!cipher) {
    cipher = new AtRestCipher(settingsOf(env).historyKeys);
    ciphers.set(env, cipher);
  }
  return cipher;
}
