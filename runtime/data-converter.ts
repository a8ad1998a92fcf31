import {
  METADATA_ENCODING_KEY,
  METADATA_MESSAGE_TYPE_KEY,
  StorageDriverClaim,
  defaultPayloadConverter,
  encodingTypes,
  type DataConverter,
  type Payload,
} from '@temporalio/common';
// The SDK's documented entry point for protobuf payloads; its reader of External Storage
// references is internal (docs/decisions.md: a public decoder is asked for upstream).
import { ProtobufJsonPayloadConverter } from '@temporalio/common/lib/protobufs';
import * as proto from '@temporalio/proto';
import { HistoryCodec } from './history-codec';
import { externalStorageFor } from './payload-storage';
import type { Settings } from './settings';

/** The module whose `failureConverter` encodes failure messages and stack traces (see `encoded-failure-converter.ts`). */
export const ENCODED_FAILURE_CONVERTER_PATH = require.resolve('../common/encoded-failure-converter');

/**
 * The data converter every client and worker of a deployment must share:
 * with history keys, payloads are encrypted (see `HistoryCodec`), and so are
 * failure messages and stack traces, which Temporal otherwise stores in plain
 * text (the workflow bundle takes the same failure converter, see
 * `getWorkflowBundle`); payloads too large for history go to the
 * large-payload folder (see `FolderStorageDriver`), after encryption.
 */
export function dataConverterFor(settings: Pick<Settings, 'historyKeys' | 'largePayloads'> & Partial<Pick<Settings, 'historyPlaintext'>>): DataConverter | undefined {
  const converter: DataConverter = {
    ...(settings.historyKeys.length === 0
      ? {}
      : { payloadCodecs: [new HistoryCodec(settings.historyKeys, { plaintext: settings.historyPlaintext ?? 'refuse' })], failureConverterPath: ENCODED_FAILURE_CONVERTER_PATH }),
    ...(settings.largePayloads === undefined ? {} : { externalStorage: externalStorageFor(settings.largePayloads) }),
  };
  return Object.keys(converter).length === 0 ? undefined : converter;
}

/**
 * One payload of a raw history (`fetchHistory()`), decoded as the SDK would:
 * a reference is fetched from large-payload storage, the codecs are undone
 * (last first), then the JSON is read.
 */
export async function decodeHistoryPayload<T>(payload: Payload | undefined, converter: DataConverter | undefined): Promise<T | undefined> {
  if (payload === undefined) return undefined;
  let decoded = [payload];
  const reference = storageReferenceOf(payload);
  if (reference) {
    const driver = converter?.externalStorage?.getDriver(reference.driverName);
    if (!driver) throw new Error(`the history refers to large-payload storage "${reference.driverName}", which this process does not have`);
    decoded = await driver.retrieve({}, [new StorageDriverClaim(reference.claimData)]);
  }
  for (const codec of [...(converter?.payloadCodecs ?? [])].reverse()) decoded = await codec.decode(decoded);
  return decoded[0] === undefined ? undefined : defaultPayloadConverter.fromPayload<T>(decoded[0]);
}

const text = (bytes: Uint8Array): string => new TextDecoder().decode(bytes);
const STORAGE_REFERENCE_TYPE = 'temporal.api.sdk.v1.ExternalStorageReference';
const storageReferences = new ProtobufJsonPayloadConverter(proto);

/**
 * The External Storage reference a history holds in place of a large payload
 * (the `temporal.api.sdk.v1.ExternalStorageReference` message, protobuf JSON),
 * or undefined for any other payload.
 */
function storageReferenceOf(payload: Payload): { driverName: string; claimData: Record<string, string> } | undefined {
  const metadata = payload.metadata ?? {};
  const encoding = metadata[METADATA_ENCODING_KEY];
  const messageType = metadata[METADATA_MESSAGE_TYPE_KEY];
  if (!encoding || !messageType || text(encoding) !== encodingTypes.METADATA_ENCODING_PROTOBUF_JSON || text(messageType) !== STORAGE_REFERENCE_TYPE) return undefined;
  const reference = storageReferences.fromPayload<proto.temporal.api.sdk.v1.IExternalStorageReference>(payload);
  if (!reference.driverName) throw new Error('a large-payload reference in the history names no storage driver');
  return { driverName: reference.driverName, claimData: { ...(reference.claimData ?? {}) } };
}
