import { METADATA_ENCODING_KEY, ValueError, type Payload, type PayloadCodec } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { AesGcmOpenError, KeyRing, openAesGcm, sealAesGcm, type HistoryKey } from './aes-gcm';

export type { HistoryKey } from './aes-gcm';

const ENCODING = 'binary/encrypted';
const KEY_ID = 'encryption-key-id';
const CIPHER = 'encryption-cipher';
/** Absent on version 1 (no associated data); `2`: the metadata is AES-GCM associated data. */
const FORMAT_VERSION = 'encryption-format';
const CURRENT_FORMAT = '2';
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** What decoding does with a payload that is not encrypted. */
export type PlaintextPolicy = 'refuse' | 'accept';

/** True for a payload this codec encrypted (of any format version). */
export function isEncryptedPayload(payload: Payload): boolean {
  const encoding = payload.metadata?.[METADATA_ENCODING_KEY];
  return encoding !== undefined && encoding !== null && decoder.decode(encoding) === ENCODING;
}

/**
 * Encrypts every payload (workflow and activity inputs and results, signals,
 * queries, updates, memo, heartbeat details, user metadata) with AES-256-GCM
 * under the first key of the ring, and names the key in the payload's
 * metadata, so older keys keep decrypting what they encrypted: rotate by
 * putting a new key first and keeping the old ones until their histories are
 * gone. The metadata (key id, cipher, format) is the cipher's associated
 * data, so editing it fails authentication; payloads of format 1 (no
 * associated data) still decrypt. A payload that is not encrypted is refused
 * (anyone who can write to Temporal could otherwise feed a worker plaintext),
 * unless `plaintext: 'accept'`, for histories from before a key was set.
 */
export class HistoryCodec implements PayloadCodec {
  private readonly ring: KeyRing;
  private readonly current: HistoryKey;
  private readonly plaintext: PlaintextPolicy;

  constructor(ring: readonly HistoryKey[], options: { plaintext?: PlaintextPolicy } = {}) {
    this.ring = new KeyRing(ring);
    if (!this.ring.current) throw new Error('HistoryCodec needs at least one key');
    this.current = this.ring.current;
    this.plaintext = options.plaintext ?? 'refuse';
  }

  async encode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => {
      const metadata = {
        [METADATA_ENCODING_KEY]: encoder.encode(ENCODING),
        [KEY_ID]: encoder.encode(this.current.id),
        [CIPHER]: encoder.encode('AES-256-GCM'),
        [FORMAT_VERSION]: encoder.encode(CURRENT_FORMAT),
      };
      const sealed = sealAesGcm(this.current.key, temporal.api.common.v1.Payload.encode(payload).finish(), associatedData(metadata));
      return { metadata, data: new Uint8Array(sealed) };
    });
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => {
      if (!isEncryptedPayload(payload)) {
        if (this.plaintext === 'accept') return payload;
        throw new ValueError('refusing a payload that is not encrypted (history keys are set; SWITCHYARD_HISTORY_PLAINTEXT=accept reads histories from before)');
      }
      const metadata = payload.metadata ?? {};
      const keyIdBytes = metadata[KEY_ID];
      const keyId = keyIdBytes ? decoder.decode(keyIdBytes) : '';
      const key = this.ring.key(keyId);
      if (!key) throw new ValueError(`no history key "${keyId}" to decrypt this payload (keep old keys in the ring after a rotation)`);
      const formatBytes = metadata[FORMAT_VERSION];
      const format = formatBytes ? decoder.decode(formatBytes) : '1';
      if (format !== '1' && format !== CURRENT_FORMAT) throw new ValueError(`unknown encrypted payload format "${format}"`);
      try {
        // Format 1 has no associated data; stripping the format entry from a format 2 payload fails authentication all the same.
        const plain = openAesGcm(key, Buffer.from(payload.data ?? new Uint8Array()), format === CURRENT_FORMAT ? associatedData(metadata) : undefined);
        return temporal.api.common.v1.Payload.decode(plain);
      } catch (error) {
        if (!(error instanceof AesGcmOpenError)) throw error;
        if (error.reason === 'too_short') throw new ValueError('encrypted payload is too short');
        throw new ValueError('encrypted payload failed authentication (its data or metadata was altered, or the key is wrong)');
      }
    });
  }
}

/** Every metadata entry, sorted by name and length-prefixed, so no entry can be added, dropped or changed unnoticed. */
function associatedData(metadata: Record<string, Uint8Array | null | undefined>): Buffer {
  const parts: Buffer[] = [];
  for (const name of Object.keys(metadata).sort()) {
    const nameBytes = Buffer.from(name, 'utf8');
    const value = Buffer.from(metadata[name] ?? new Uint8Array());
    const lengths = Buffer.alloc(8);
    lengths.writeUInt32BE(nameBytes.length, 0);
    lengths.writeUInt32BE(value.length, 4);
    parts.push(lengths, nameBytes, value);
  }
  return Buffer.concat(parts);
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
