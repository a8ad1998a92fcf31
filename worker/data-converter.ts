import type { DataConverter } from '@temporalio/common';
import { HistoryCodec, type HistoryKey } from './history-codec';

/**
 * The data converter every client and worker of a process must share: with
 * history keys, payloads are encrypted (see `HistoryCodec`); without, the
 * SDK's default.
 */
export function dataConverterFor(historyKeys: readonly HistoryKey[]): DataConverter | undefined {
  return historyKeys.length === 0 ? undefined : { payloadCodecs: [new HistoryCodec(historyKeys)] };
}
