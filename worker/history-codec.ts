import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { METADATA_ENCODING_KEY, ValueError, type Payload, type PayloadCodec } from '@temporalio/common';
import { temporal } from '@temporalio/proto';

const ENCODING = 'binary/encrypted';
const KEY_ID = 'encryption-key-id';
const CIPHER = 'encryption-cipher';
const IV_BYTES = 12;
const TAG_BYTES = 16;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** A named 256-bit key. */
export interface HistoryKey {
  id: string;
  key: Buffer;
}

/**
 * Encrypts every payload (workflow and activity inputs and results, signals,
 * queries, updates, memo, heartbeat details, user metadata) with AES-256-GCM
 * under the first key of the ring, and names the key in the payload's
 * metadata, so older keys keep decrypting what they encrypted: rotate by
 * putting a new key first and keeping the old ones until their histories are
 * gone. Unencrypted payloads (from before a key was set) pass through.
 */
export class HistoryCodec implements PayloadCodec {
  private readonly keys: ReadonlyMap<string, Buffer>;
  private readonly current: HistoryKey;

  constructor(ring: readonly HistoryKey[]) {
    const [current] = ring;
    if (!current) throw new Error('HistoryCodec needs at least one key');
    for (const { id, key } of ring) {
      if (key.length !== 32) throw new Error(`history key "${id}" must be 32 bytes (AES-256), got ${key.length}`);
    }
    this.current = current;
    this.keys = new Map(ring.map(({ id, key }) => [id, key]));
  }

  async encode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => {
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv('aes-256-gcm', this.current.key, iv);
      const body = Buffer.concat([cipher.update(temporal.api.common.v1.Payload.encode(payload).finish()), cipher.final()]);
      return {
        metadata: {
          [METADATA_ENCODING_KEY]: encoder.encode(ENCODING),
          [KEY_ID]: encoder.encode(this.current.id),
          [CIPHER]: encoder.encode('AES-256-GCM'),
        },
        data: new Uint8Array(Buffer.concat([iv, body, cipher.getAuthTag()])),
      };
    });
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => {
      const encoding = payload.metadata?.[METADATA_ENCODING_KEY];
      if (!encoding || decoder.decode(encoding) !== ENCODING) return payload;
      const keyIdBytes = payload.metadata?.[KEY_ID];
      const keyId = keyIdBytes ? decoder.decode(keyIdBytes) : '';
      const key = this.keys.get(keyId);
      if (!key) throw new ValueError(`no history key "${keyId}" to decrypt this payload (keep old keys in the ring after a rotation)`);
      const data = Buffer.from(payload.data ?? new Uint8Array());
      if (data.length < IV_BYTES + TAG_BYTES) throw new ValueError('encrypted payload is too short');
      const decipher = createDecipheriv('aes-256-gcm', key, data.subarray(0, IV_BYTES));
      decipher.setAuthTag(data.subarray(data.length - TAG_BYTES));
      const plain = Buffer.concat([decipher.update(data.subarray(IV_BYTES, data.length - TAG_BYTES)), decipher.final()]);
      return temporal.api.common.v1.Payload.decode(plain);
    });
  }
}

/**
 * Reads a key ring: `id:base64key` entries separated by commas or new lines,
 * the first being the one that encrypts. Blank lines and `#` comments are skipped.
 */
export function parseHistoryKeys(text: string): HistoryKey[] {
  return text
    .split(/[,\n]/)
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '' && !entry.startsWith('#'))
    .map((entry) => {
      const separator = entry.indexOf(':');
      const id = entry.slice(0, separator).trim();
      if (separator <= 0 || !/^[A-Za-z0-9_.-]{1,64}$/.test(id)) throw new Error('history keys are "id:base64key" entries (id: letters, digits, _ . -)');
      const key = Buffer.from(entry.slice(separator + 1).trim(), 'base64');
      if (key.length !== 32) throw new Error(`history key "${id}" must be 32 bytes of base64 (openssl rand -base64 32)`);
      return { id, key };
    });
}
