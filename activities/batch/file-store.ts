import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

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

/**
 * Files on a local folder (the data folder's `files/` by default), one folder
 * per tenant: `<id>.jsonl` holds the content, `<id>.json` its description,
 * written last so a half-written file is never listed. API and workers must
 * share the folder (one host, or a shared volume).
 */
export class FileStore {
  constructor(readonly root: string) {}

  private folder(tenantId: string): string {
    if (!/^[a-zA-Z0-9_-]{1,64}$/.test(tenantId)) throw new Error(`bad tenant id "${tenantId}"`);
    return join(this.root, tenantId);
  }

  /** The path of a file's content, or undefined when the tenant has no such file. */
  contentPath(tenantId: string, fileId: string): string | undefined {
    if (!/^file-[a-f0-9]{32}$/.test(fileId)) return undefined;
    const path = join(this.folder(tenantId), `${fileId}.jsonl`);
    return existsSync(join(this.folder(tenantId), `${fileId}.json`)) ? path : undefined;
  }

  get(tenantId: string, fileId: string): StoredFile | undefined {
    if (this.contentPath(tenantId, fileId) === undefined) return undefined;
    return JSON.parse(readFileSync(join(this.folder(tenantId), `${fileId}.json`), 'utf8')) as StoredFile;
  }

  /** Moves `source` (a finished temporary file) in as a new file of the tenant's; a given `id` replaces the file of that id. */
  adopt(tenantId: string, source: string, description: { filename: string; purpose: FilePurpose; id?: string }): StoredFile {
    const folder = this.folder(tenantId);
    mkdirSync(folder, { recursive: true });
    const id = description.id ?? `file-${randomUUID().replace(/-/g, '')}`;
    if (!/^file-[a-f0-9]{32}$/.test(id)) throw new Error(`bad file id "${id}"`);
    const content = join(folder, `${id}.jsonl`);
    renameSync(source, content);
    const file: StoredFile = {
      id,
      object: 'file',
      bytes: statSync(content).size,
      created_at: Math.floor(Date.now() / 1000),
      filename: description.filename,
      purpose: description.purpose,
      status: 'processed',
      expires_at: null,
    };
    writeFileSync(join(folder, `${id}.json`), JSON.stringify(file));
    return file;
  }

  /** Writes `text` as a new file of the tenant's. */
  create(tenantId: string, text: string, description: { filename: string; purpose: FilePurpose; id?: string }): StoredFile {
    const folder = this.folder(tenantId);
    mkdirSync(folder, { recursive: true });
    const temporary = join(folder, `.upload-${randomUUID()}`);
    writeFileSync(temporary, text);
    return this.adopt(tenantId, temporary, description);
  }

  list(tenantId: string): StoredFile[] {
    const folder = this.folder(tenantId);
    if (!existsSync(folder)) return [];
    return readdirSync(folder)
      .filter((name) => /^file-[a-f0-9]{32}\.json$/.test(name))
      .map((name) => JSON.parse(readFileSync(join(folder, name), 'utf8')) as StoredFile)
      .sort((left, right) => right.created_at - left.created_at || left.id.localeCompare(right.id));
  }

  delete(tenantId: string, fileId: string): boolean {
    if (this.contentPath(tenantId, fileId) === undefined) return false;
    rmSync(join(this.folder(tenantId), `${fileId}.json`), { force: true });
    rmSync(join(this.folder(tenantId), `${fileId}.jsonl`), { force: true });
    return true;
  }

  /** A folder for uploads in progress (same filesystem as the files, so adopting one is a rename). */
  uploadsFolder(): string {
    const folder = resolve(this.root, '.uploads');
    mkdirSync(folder, { recursive: true });
    return folder;
  }
}

/** The file store of the config in force: `batch.filesDir` under the process's data folder. */
export function fileStoreFor(dataDir: string, filesDir: string): FileStore {
  return new FileStore(resolve(dataDir, filesDir));
}
