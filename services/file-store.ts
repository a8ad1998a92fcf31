import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import type { BatchConfig } from '../common/config-schema';
import { AtRestCipher } from '../runtime/at-rest-cipher';

/** File purposes the gateway keeps: batch inputs callers upload, and the outputs batches write. */
export const FILE_PURPOSES = ['batch', 'batch_output'] as const;
export type FilePurpose = (typeof FILE_PURPOSES)[number];

/** A stored file as OpenAI's Files API describes it. */
export interface StoredFile {
  id: string;
  object: 'file';
  bytes: number;
  created_at: number;
  filename: string;
  purpose: FilePurpose;
  status: 'processed';
  expires_at: number | null;
}

/** How a file store seals and expires what it keeps. */
export interface FileStoreOptions {
  /** Seals contents when history keys are set. @default no keys: plaintext */
  cipher?: AtRestCipher;
  /** Files expire this long after they were made (`expires_at`). @default 30 days */
  retentionSeconds?: number;
  /** Epoch ms now (tests inject one). */
  now?: () => number;
}

/**
 * Files on a local folder (the data folder's `files/` by default), one folder
 * per tenant: `<id>.jsonl` holds the content, `<id>.json` its description,
 * written last so a half-written file is never listed. API and workers must
 * share the folder (one host, or a shared volume). With history keys set,
 * contents (and a batch's page files) are sealed, never written in
 * plaintext; the descriptions (size, name, dates) are not. A file past its
 * `expires_at` reads as missing and is deleted when it is next looked at.
 */
export class FileStore {
  private readonly cipher: AtRestCipher;
  private readonly retentionSeconds: number;
  private readonly now: () => number;

  constructor(
    readonly root: string,
    options: FileStoreOptions = {},
  ) {
    this.cipher = options.cipher ?? new AtRestCipher([]);
    this.retentionSeconds = options.retentionSeconds ?? DEFAULT_FILE_RETENTION_SECONDS;
    this.now = options.now ?? Date.now;
  }

  /** Whether contents are sealed (history keys are set). */
  get seals(): boolean {
    return this.cipher.seals;
  }

  private folder(tenantId: string): string {
    if (!/^[a-zA-Z0-9_-]{1,64}$/.test(tenantId)) throw new Error(`bad tenant id "${tenantId}"`);
    return join(this.root, tenantId);
  }

  /** The file's description, or undefined when the tenant has no such file (or it expired, which deletes it). */
  get(tenantId: string, fileId: string): StoredFile | undefined {
    if (!/^file-[a-f0-9]{32}$/.test(fileId)) return undefined;
    const path = join(this.folder(tenantId), `${fileId}.json`);
    if (!existsSync(path)) return undefined;
    return this.unlessExpired(tenantId, JSON.parse(readFileSync(path, 'utf8')) as StoredFile);
  }

  /** A file's content (opened when sealed), or undefined when the tenant has no such file. */
  readContent(tenantId: string, fileId: string): Buffer | undefined {
    if (this.get(tenantId, fileId) === undefined) return undefined;
    return this.cipher.open(readFileSync(join(this.folder(tenantId), `${fileId}.jsonl`)), `${tenantId}/${fileId}`);
  }

  /**
   * Takes `source` (a finished temporary file) in as a new file of the
   * tenant's; a given `id` replaces the file of that id. Without keys it is a
   * rename; with keys it is read, sealed and written, and `source` (plaintext)
   * is deleted either way, so none is left on disk.
   */
  adopt(tenantId: string, source: string, description: { filename: string; purpose: FilePurpose; id?: string }): StoredFile {
    try {
      if (this.seals) return this.create(tenantId, readFileSync(source), description);
      const { id, folder } = this.newFile(tenantId, description.id);
      renameSync(source, join(folder, `${id}.jsonl`));
      return this.describe(folder, id, statSync(join(folder, `${id}.jsonl`)).size, description);
    } finally {
      rmSync(source, { force: true });
    }
  }

  /** Writes `content` (sealed when keys are set) as a new file of the tenant's; a given `id` replaces the file of that id. */
  create(tenantId: string, content: Buffer | string, description: { filename: string; purpose: FilePurpose; id?: string }): StoredFile {
    const { id, folder } = this.newFile(tenantId, description.id);
    const plain = typeof content === 'string' ? Buffer.from(content, 'utf8') : content;
    const temporary = join(folder, `.upload-${randomUUID()}`);
    writeFileSync(temporary, this.cipher.seal(plain, `${tenantId}/${id}`));
    renameSync(temporary, join(folder, `${id}.jsonl`));
    return this.describe(folder, id, plain.length, description);
  }

  private newFile(tenantId: string, given: string | undefined): { id: string; folder: string } {
    const folder = this.folder(tenantId);
    mkdirSync(folder, { recursive: true });
    const id = given ?? `file-${randomUUID().replace(/-/g, '')}`;
    if (!/^file-[a-f0-9]{32}$/.test(id)) throw new Error(`bad file id "${id}"`);
    return { id, folder };
  }

  /** Writes the description, last: only then is the file listed. */
  private describe(folder: string, id: string, bytes: number, description: { filename: string; purpose: FilePurpose }): StoredFile {
    const createdAt = Math.floor(this.now() / 1000);
    const file: StoredFile = {
      id,
      object: 'file',
      bytes,
      created_at: createdAt,
      filename: description.filename,
      purpose: description.purpose,
      status: 'processed',
      expires_at: createdAt + this.retentionSeconds,
    };
    writeFileSync(join(folder, `${id}.json`), JSON.stringify(file));
    return file;
  }

  /** Writes a working file under the store's folder (a batch's page), sealed like a file's content. */
  writePrivate(path: string, text: string): void {
    const temporary = `${path}.tmp`;
    writeFileSync(temporary, this.cipher.seal(text, relative(this.root, path)));
    renameSync(temporary, path);
  }

  readPrivate(path: string): string {
    return this.cipher.open(readFileSync(path), relative(this.root, path)).toString('utf8');
  }

  list(tenantId: string): StoredFile[] {
    const folder = this.folder(tenantId);
    if (!existsSync(folder)) return [];
    return readdirSync(folder)
      .filter((name) => /^file-[a-f0-9]{32}\.json$/.test(name))
      .map((name) => this.unlessExpired(tenantId, JSON.parse(readFileSync(join(folder, name), 'utf8')) as StoredFile))
      .filter((file) => file !== undefined)
      .sort((left, right) => right.created_at - left.created_at || left.id.localeCompare(right.id));
  }

  delete(tenantId: string, fileId: string): boolean {
    if (this.get(tenantId, fileId) === undefined) return false;
    this.remove(tenantId, fileId);
    return true;
  }

  /** Deletes every tenant's expired files; returns how many. */
  sweepExpired(): number {
    if (!existsSync(this.root)) return 0;
    let swept = 0;
    for (const tenantId of readdirSync(this.root).filter((name) => /^[a-zA-Z0-9_-]{1,64}$/.test(name))) {
      const before = readdirSync(this.folder(tenantId)).filter((name) => /^file-[a-f0-9]{32}\.json$/.test(name)).length;
      swept += before - this.list(tenantId).length;
    }
    return swept;
  }

  private unlessExpired(tenantId: string, file: StoredFile): StoredFile | undefined {
    // Files from before expiry have none; they take the retention from their creation.
    const expiresAt = file.expires_at ?? file.created_at + this.retentionSeconds;
    if (this.now() < expiresAt * 1000) return file.expires_at === null ? { ...file, expires_at: expiresAt } : file;
    this.remove(tenantId, file.id);
    return undefined;
  }

  private remove(tenantId: string, fileId: string): void {
    // The description first: without it the content is never listed or read.
    rmSync(join(this.folder(tenantId), `${fileId}.json`), { force: true });
    rmSync(join(this.folder(tenantId), `${fileId}.jsonl`), { force: true });
  }

  /** A folder for uploads in progress (same filesystem as the files, so adopting one is a rename). */
  uploadsFolder(): string {
    const folder = resolve(this.root, '.uploads');
    mkdirSync(folder, { recursive: true });
    return folder;
  }
}

/** OpenAI's default for batch files: 30 days. */
export const DEFAULT_FILE_RETENTION_SECONDS = 30 * 86_400;

/** The file store of the config in force: `batch.filesDir` under the process's data folder, sealed with its history keys. */
export function fileStoreFor(dataDir: string, batch: Pick<BatchConfig, 'filesDir' | 'fileRetentionSeconds'>, cipher: AtRestCipher): FileStore {
  return new FileStore(resolve(dataDir, batch.filesDir), { cipher, retentionSeconds: batch.fileRetentionSeconds });
}
