import { createReadStream, rmSync } from 'node:fs';
import { Router, type NextFunction, type Request, type Response } from 'express';
import multer from 'multer';
import { fileStoreFor, FILE_PURPOSES, type FileStore } from '../../services/file-store';
import type { ConfigStore } from '../../services/config-store';
import { atRestCipherFor } from '../../runtime/at-rest-cipher';
import { settingsOf } from '../../runtime/settings';
import { HttpError } from '../../dialects/http-error';

/** The batch endpoints the gateway serves (`url` of every input line). */
export const BATCH_ENDPOINTS = ['/v1/chat/completions'] as const;

/** The process's file store, from the config in force. */
export function filesOf(store: ConfigStore): FileStore {
  return fileStoreFor(settingsOf(store.env).dataDir, store.loaded.config.batch, atRestCipherFor(store.env));
}

/**
 * OpenAI's Files API, for batches: `POST /v1/files` (multipart, `purpose`
 * batch, a JSONL file checked line by line), `GET /v1/files`,
 * `GET /v1/files/:id`, `GET /v1/files/:id/content`, `DELETE /v1/files/:id`.
 * A tenant sees only its own files. An upload streams to a temporary file
 * and is checked from there; with history keys set it is then sealed and the
 * temporary file deleted, so no plaintext is left on disk once the upload
 * returns (an error deletes it too).
 */
export function filesRouter(store: ConfigStore): Router {
  const router = Router();
  const upload = (request: Request, response: Response, next: NextFunction): void => {
    const files = filesOf(store);
    // Straight to disk (the files folder's upload area), never whole in memory: a batch file may be hundreds of megabytes.
    multer({ storage: multer.diskStorage({ destination: files.uploadsFolder() }), limits: { fileSize: store.loaded.config.batch.maxFileBytes, files: 1, fields: 8 } }).single('file')(
      request,
      response,
      (error: unknown) => {
        if (error instanceof multer.MulterError) {
          const tooLarge = error.code === 'LIMIT_FILE_SIZE';
          next(new HttpError(tooLarge ? 413 : 400, tooLarge ? 'request_too_large' : 'invalid_request_error', tooLarge ? `the file is larger than ${store.loaded.config.batch.maxFileBytes} bytes` : error.message, { param: 'file' }));
          return;
        }
        next(error);
      },
    );
  };

  router.post('/v1/files', upload, async (request, response) => {
    const tenantId = response.locals.tenantId as string;
    const uploaded = request.file;
    try {
      const purpose = (request.body as Record<string, unknown> | undefined)?.purpose;
      if (purpose !== 'batch') {
        throw new HttpError(400, 'invalid_request_error', `purpose must be "batch" (the gateway keeps batch files only), got ${JSON.stringify(purpose ?? null)}`, { param: 'purpose' });
      }
      if (!uploaded) throw new HttpError(400, 'invalid_request_error', 'a multipart field "file" with the JSONL content is required', { param: 'file' });
      const description = { filename: uploaded.originalname.slice(0, 255), purpose: 'batch' } as const;
      const files = filesOf(store);
      await checkBatchFile(uploaded.path, store.loaded.config.batch.maxItems);
      // Adopting seals it when history keys are set, and deletes the plaintext temporary file.
      const file = files.adopt(tenantId, uploaded.path, description);
      files.sweepExpired();
      response.json(file);
    } catch (error) {
      if (uploaded) rmSync(uploaded.path, { force: true });
      throw error;
    }
  });

  router.get('/v1/files', (request, response) => {
    const purpose = typeof request.query.purpose === 'string' ? request.query.purpose : undefined;
    if (purpose !== undefined && !(FILE_PURPOSES as readonly string[]).includes(purpose)) {
      throw new HttpError(400, 'invalid_request_error', `purpose: one of ${FILE_PURPOSES.join(', ')}`, { param: 'purpose' });
    }
    const data = filesOf(store)
      .list(response.locals.tenantId as string)
      .filter((file) => purpose === undefined || file.purpose === purpose);
    response.json({ object: 'list', data, has_more: false, first_id: data[0]?.id ?? null, last_id: data.at(-1)?.id ?? null });
  });

  router.get('/v1/files/:id', (request, response) => {
    response.json(fileOr404(filesOf(store), response.locals.tenantId as string, request.params.id ?? ''));
  });

  router.get('/v1/files/:id/content', (request, response) => {
    const files = filesOf(store);
    const tenantId = response.locals.tenantId as string;
    const file = fileOr404(files, tenantId, request.params.id ?? '');
    const content = files.readContent(tenantId, file.id);
    if (content === undefined) fileOr404(files, tenantId, file.id);
    response.type('application/jsonl').send(content);
  });

  router.delete('/v1/files/:id', (request, response) => {
    const files = filesOf(store);
    const tenantId = response.locals.tenantId as string;
    const file = fileOr404(files, tenantId, request.params.id ?? '');
    files.delete(tenantId, file.id);
    response.json({ id: file.id, object: 'file', deleted: true });
  });
  return router;
}

function fileOr404(files: FileStore, tenantId: string, fileId: string) {
  const file = files.get(tenantId, fileId);
  if (!file) throw new HttpError(404, 'not_found_error', `No such File object: ${fileId}`, { param: 'id', code: 'file_not_found' });
  return file;
}

/**
 * Checks a batch input file: every non-empty line a JSON request
 * `{custom_id, method: "POST", url, body}` to an endpoint the gateway
 * batches, custom ids unique, at most `maxItems` lines. The error names the line.
 */
export function checkBatchInput(text: string, maxItems: number): number {
  const checker = new BatchInputChecker(maxItems);
  for (const line of text.split('\n')) checker.line(line);
  return checker.finish();
}

/** `checkBatchInput` on a file, read a chunk at a time: memory holds one line, not the file. */
export async function checkBatchFile(path: string, maxItems: number): Promise<number> {
  const checker = new BatchInputChecker(maxItems);
  let partial = '';
  for await (const chunk of createReadStream(path, { encoding: 'utf8' })) {
    const lines = (partial + String(chunk)).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) checker.line(line);
  }
  checker.line(partial);
  return checker.finish();
}

/** The line-by-line state of a batch file check. */
class BatchInputChecker {
  private readonly seen = new Set<string>();
  private count = 0;
  private lineNumber = 0;

  constructor(private readonly maxItems: number) {}

  line(line: string): void {
    this.lineNumber += 1;
    if (line.trim() === '') return;
    const where = `line ${this.lineNumber}`;
    let item: { custom_id?: unknown; method?: unknown; url?: unknown; body?: unknown };
    try {
      item = JSON.parse(line) as typeof item;
    } catch {
      throw new HttpError(400, 'invalid_request_error', `${where}: not JSON`, { param: 'file', code: 'invalid_batch_file' });
    }
    const fail = (message: string) => new HttpError(400, 'invalid_request_error', `${where}: ${message}`, { param: 'file', code: 'invalid_batch_file' });
    if (typeof item !== 'object' || item === null) throw fail('each line is a JSON object');
    if (typeof item.custom_id !== 'string' || item.custom_id.length === 0 || item.custom_id.length > 512) throw fail('custom_id is a string of 1 to 512 characters');
    if (this.seen.has(item.custom_id)) throw fail(`custom_id "${item.custom_id}" is used twice`);
    this.seen.add(item.custom_id);
    if (item.method !== 'POST') throw fail('method must be "POST"');
    if (!(BATCH_ENDPOINTS as readonly unknown[]).includes(item.url)) throw fail(`url must be one of ${BATCH_ENDPOINTS.join(', ')}`);
    if (typeof item.body !== 'object' || item.body === null || Array.isArray(item.body)) throw fail('body is the request object');
    this.count += 1;
    if (this.count > this.maxItems) throw fail(`a batch holds at most ${this.maxItems} requests`);
  }

  finish(): number {
    if (this.count === 0) throw new HttpError(400, 'invalid_request_error', 'the file holds no request', { param: 'file', code: 'invalid_batch_file' });
    return this.count;
  }
}
