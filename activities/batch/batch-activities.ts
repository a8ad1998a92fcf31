import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { ApplicationFailure, heartbeat } from '@temporalio/activity';
import { toCanonicalRequest, toChatCompletion } from '../../dialects/openai/convert-chat-completion';
import { ChatCompletionRequestSchema } from '../../dialects/openai/chat-completion-request-schema';
import { BATCH_EXPIRED_MESSAGE } from '../../common/constants';
import type { CanonicalRequest } from '../../common/request-schema';
import type { CanonicalResponse } from '../../common/response-schema';
import { atRestCipherFor } from '../../runtime/at-rest-cipher';
import { settingsOf } from '../../runtime/settings';
import { planRoute } from '../../workflows/plan-route';
import { takeRoutingSnapshot } from '../../services/routing-snapshot';
import type { ActivityDependencies } from '../call-provider';
import { fileStoreFor, type FileStore } from '../../services/file-store';

/** One line of a batch's input, ready to run, or the reason it cannot. */
export interface BatchItem {
  /** 0-based line among the file's requests. */
  index: number;
  customId: string;
  request?: CanonicalRequest;
  /** The provider of the route's first choice, for the batch's per-provider rate limit. */
  provider?: string;
  /** Why the line cannot run (it is written to the error file). */
  invalid?: string;
}

/** What became of one item. */
export type BatchItemResult =
  | { index: number; customId: string; ok: true; response: CanonicalResponse }
  | { index: number; customId: string; ok: false; status: number; code: string; message: string };

/** The batch activities: read its input a page at a time, write each page's results, assemble the output files. */
export function createBatchActivities(dependencies: ActivityDependencies) {
  const files = (): FileStore =>
    fileStoreFor(settingsOf(dependencies.store.env).dataDir, dependencies.store.loaded.config.batch, atRestCipherFor(dependencies.store.env));
  const workFolder = (tenantId: string, batchId: string) => join(files().root, '.batches', tenantId, batchId);
  const inputText = (tenantId: string, inputFileId: string): string => {
    const content = files().readContent(tenantId, inputFileId);
    if (content === undefined) throw ApplicationFailure.nonRetryable(`input file ${inputFileId} not found`, 'InvalidRequest');
    return content.toString('utf8');
  };

  /** The provider the route would try first, as `POST /v1/route/explain` plans it. */
  const withProvider = (item: BatchItem): BatchItem => {
    if (item.request === undefined) return item;
    const { loaded } = dependencies.store.current;
    const provider = planRoute(item.request, takeRoutingSnapshot(loaded, dependencies, item.request)).candidates[0]?.provider;
    return provider === undefined ? item : { ...item, provider };
  };

  return {
    /** Counts the input's requests; fails (not retried) when the file is gone. */
    async openBatch(tenantId: string, inputFileId: string): Promise<{ total: number }> {
      const beat = heartbeats('counting lines');
      let total = 0;
      for (const _ of requestLines(inputText(tenantId, inputFileId))) {
        total += 1;
        await beat(total);
      }
      return { total };
    },

    /** Requests `start` to `start + count - 1` of the input, each checked like a chat-completion body. */
    async readBatchPage(tenantId: string, batchId: string, inputFileId: string, start: number, count: number): Promise<BatchItem[]> {
      const beat = heartbeats('reading lines');
      const items: BatchItem[] = [];
      for (const { index, line } of requestLines(inputText(tenantId, inputFileId), start)) {
        if (index >= start + count) break;
        items.push(withProvider(toItem(line, index, tenantId, batchId)));
        await beat(index + 1);
      }
      return items;
    },

    /** Writes one page's result lines (replacing an earlier try's), in input order. */
    async writeBatchPage(tenantId: string, batchId: string, page: number, results: BatchItemResult[]): Promise<void> {
      const folder = workFolder(tenantId, batchId);
      mkdirSync(folder, { recursive: true });
      const ordered = [...results].sort((left, right) => left.index - right.index);
      const output = ordered.filter((result) => result.ok).map((result) => outputLine(batchId, result));
      const errors = ordered.filter((result) => !result.ok).map((result) => outputLine(batchId, result));
      const name = `page-${String(page).padStart(6, '0')}`;
      const store = files();
      store.writePrivate(join(folder, `${name}.out.jsonl`), asLines(output));
      store.writePrivate(join(folder, `${name}.err.jsonl`), asLines(errors));
    },

    /** The completion window ran out: every request from `start` on goes to the error file as `batch_expired`; returns how many. */
    async expireBatchRest(tenantId: string, batchId: string, inputFileId: string, start: number): Promise<number> {
      const beat = heartbeats('expiring lines');
      const lines: string[] = [];
      for (const { index, line } of requestLines(inputText(tenantId, inputFileId), start)) {
        await beat(index + 1);
        const { customId } = toItem(line, index, tenantId, batchId);
        lines.push(outputLine(batchId, { index, customId, ok: false, status: 0, code: 'batch_expired', message: BATCH_EXPIRED_MESSAGE }));
      }
      const folder = workFolder(tenantId, batchId);
      mkdirSync(folder, { recursive: true });
      // Named to sort after every page, so the error file stays in input order.
      files().writePrivate(join(folder, 'rest.err.jsonl'), asLines(lines));
      return lines.length;
    },

    /** Joins the pages into the output and error files (files of purpose `batch_output`). */
    async finalizeBatch(tenantId: string, batchId: string): Promise<{ outputFileId: string | null; errorFileId: string | null }> {
      const folder = workFolder(tenantId, batchId);
      const store = files();
      // The batch's own file ids: a retried finalize replaces its files instead of adding new ones.
      const outputId = batchFileId(batchId, 'output');
      const errorId = batchFileId(batchId, 'error');
      // A retry after the pages were removed: the files were made then.
      if (!existsSync(folder)) {
        return { outputFileId: store.get(tenantId, outputId) ? outputId : null, errorFileId: store.get(tenantId, errorId) ? errorId : null };
      }
      const pages = readdirSync(folder).sort();
      const beat = heartbeats('joining pages', 1);
      const join_ = async (suffix: string) => {
        const parts: string[] = [];
        for (const name of pages.filter((candidate) => candidate.endsWith(suffix))) {
          parts.push(store.readPrivate(join(folder, name)));
          await beat(parts.length);
        }
        return parts.join('');
      };
      const output = await join_('.out.jsonl');
      const errors = await join_('.err.jsonl');
      const made = {
        outputFileId: output === '' ? null : store.create(tenantId, output, { filename: `${batchId}_output.jsonl`, purpose: 'batch_output', id: outputId }).id,
        errorFileId: errors === '' ? null : store.create(tenantId, errors, { filename: `${batchId}_error.jsonl`, purpose: 'batch_output', id: errorId }).id,
      };
      // The pages are in the files now; keeping them would hold every batch's results twice.
      rmSync(folder, { recursive: true, force: true });
      return made;
    },
  };
}

/**
 * A loop's heartbeat: every `every` steps it records how far the activity got
 * (shown in the UI's pending activity) and lets the event loop run, so the
 * heartbeat is sent while a long loop works. A worker that dies mid-loop stops
 * heartbeating, and Temporal retries the activity elsewhere after the
 * heartbeat timeout instead of the start-to-close timeout.
 */
function heartbeats(doing: string, every = 500): (done: number) => Promise<void> {
  return async (done) => {
    if (done % every !== 0) return;
    heartbeat({ doing, done });
    await yieldToEventLoop();
  };
}

/** The input's requests (blank lines skipped) from the `start`-th on, each with its 0-based index among them. */
function* requestLines(text: string, start = 0): Generator<{ index: number; line: string }> {
  let index = 0;
  for (const line of text.split(/\r?\n/)) {
    if (line.trim() === '') continue;
    if (index >= start) yield { index, line };
    index += 1;
  }
}

/** A batch's output or error file id, derived from the batch id. */
function batchFileId(batchId: string, kind: 'output' | 'error'): string {
  return `file-${createHash('sha256').update(`${batchId}/${kind}`).digest('hex').slice(0, 32)}`;
}

function toItem(line: string, index: number, tenantId: string, batchId: string): BatchItem {
  let parsed: { custom_id?: unknown; body?: unknown };
  try {
    parsed = JSON.parse(line) as typeof parsed;
  } catch {
    return { index, customId: `line-${index + 1}`, invalid: 'not JSON' };
  }
  const customId = typeof parsed.custom_id === 'string' ? parsed.custom_id : `line-${index + 1}`;
  const body = ChatCompletionRequestSchema.safeParse(parsed.body);
  if (!body.success) {
    const issue = body.error.issues[0];
    return { index, customId, invalid: `${issue?.path.join('.') ?? 'body'}: ${issue?.message ?? 'invalid'}` };
  }
  if (body.data.stream === true) return { index, customId, invalid: 'stream: true is not available in a batch' };
  return { index, customId, request: toCanonicalRequest(body.data, { requestId: `${batchId}-${index}`, tenantId }) };
}

function outputLine(batchId: string, result: BatchItemResult): string {
  const id = `batch_req_${batchId.replace(/^batch_/, '')}_${result.index}`;
  if (result.ok) {
    return JSON.stringify({
      id,
      custom_id: result.customId,
      response: { status_code: 200, request_id: result.response.requestId, body: toChatCompletion(result.response) },
      error: null,
    });
  }
  // Never run: no response at all, as OpenAI writes expired lines.
  if (result.code === 'batch_expired') return JSON.stringify({ id, custom_id: result.customId, response: null, error: { code: result.code, message: result.message } });
  return JSON.stringify({
    id,
    custom_id: result.customId,
    response: { status_code: result.status, request_id: null, body: { error: { message: result.message, type: 'invalid_request_error', param: null, code: result.code } } },
    error: { code: result.code, message: result.message },
  });
}

function asLines(lines: readonly string[]): string {
  return lines.map((line) => `${line}\n`).join('');
}
