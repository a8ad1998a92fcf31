import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

/** A named 256-bit key. */
export interface HistoryKey {
  id: string;
  key: Buffer;
}

const IV_BYTES = 12;
const TAG_BYTES = 16;

/**
 * The history key ring: the first key seals, every key opens what it sealed
 * (looked up by the id stored beside the ciphertext), so a rotation puts a
 * new key first and keeps the old ones until nothing they sealed is left.
 */
export class KeyRing {
  /** The key that seals; undefined for an empty ring. */
  readonly current: HistoryKey | undefined;
  private readonly keys: ReadonlyMap<string, Buffer>;

  constructor(ring: readonly HistoryKey[]) {
    for (const { id, key } of ring) {
      if (key.length !== 32) throw new Error(`history key "${id}" must be 32 bytes (AES-256), got ${key.length}`);
    }
    this.current = ring[0];
    this.keys = new Map(ring.map(({ id, key }) => [id, key]));
  }

  key(id: string): Buffer | undefined {
    return this.keys.get(id);
  }
}

/** AES-256-GCM with a fresh random IV: `iv ‖ ciphertext ‖ tag`, `associatedData` authenticated with it. */
export function sealAesGcm(key: Buffer, plain: Uint8Array, associatedData?: Buffer): Buffer {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  if (associatedData) cipher.setAAD(associatedData);
  return Buffer.concat([iv, cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
}

/** Why `openAesGcm` could not open a value. */
export class AesGcmOpenError extends Error {
  override readonly name = 'AesGcmOpenError';

  constructor(readonly reason: 'too_short' | 'unauthenticated') {
    super(reason === 'too_short' ? 'the sealed value is too short' : 'the sealed value failed authentication');
  }
}

/** The plaintext of `sealAesGcm`'s output; throws `AesGcmOpenError` when it is too short or does not authenticate. */
export function openAesGcm(key: Buffer, sealed: Buffer, associatedData?: Buffer): Buffer {
  if (sealed.length < IV_BYTES + TAG_BYTES) throw new AesGcmOpenError('too_short');
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, sealed.subarray(0, IV_BYTES));
    if (associatedData) decipher.setAAD(associatedData);
    decipher.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES));
    return Buffer.concat([decipher.update(sealed.subarray(IV_BYTES, sealed.length - TAG_BYTES)), decipher.final()]);
  } catch {
    throw new AesGcmOpenError('unauthenticated');
  }
}
