import { createHash, randomUUID } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  ExternalStorage,
  StorageDriverClaim,
  ValueError,
  type Payload,
  type StorageDriver,
  type StorageDriverRetrieveContext,
  type StorageDriverStoreContext,
} from '@temporalio/common';
import { temporal } from '@temporalio/proto';

/** Where large payloads go, and from what size (see `readSettings`). */
export interface LargePayloadSettings {
  /** A folder every API, worker and CLI process of the deployment reaches (a shared volume). */
  dir: string;
  /** Serialized payloads of this many bytes or more leave history. */
  thresholdBytes: number;
  /** Files not read or written for this long are deleted by the workers' sweep. */
  retentionDays: number;
}

const DRIVER_NAME = 'switchyard-folder';
const HEX_DIGEST = /^[a-f0-9]{64}$/;
const NAMESPACE = /^[A-Za-z0-9._-]{1,200}$/;

/**
 * Temporal's External Storage (the claim-check pattern built into the SDK's
 * data converter) over a plain folder: a payload at or above the threshold —
 * an agent run's transcript handed to its next model call, a large tool
 * result, a long prompt — is written to `<dir>/<namespace>/<sha256>` after the
 * converter and codecs ran (so it is encrypted when history is), and history
 * keeps a reference of a hundred bytes. Content-addressed: the same payload is
 * stored once, and its hash is checked when read back.
 */
export class FolderStorageDriver implements StorageDriver {
  readonly name = DRIVER_NAME;
  readonly type = 'switchyard.folder';

  constructor(private readonly root: string) {}

  async store(context: StorageDriverStoreContext, payloads: Payload[]): Promise<StorageDriverClaim[]> {
    const namespace = context.target?.namespace ?? 'default';
    if (!NAMESPACE.test(namespace)) throw new ValueError(`namespace "${namespace}" cannot name a payload folder`);
    return Promise.all(
      payloads.map(async (payload) => {
        const bytes = temporal.api.common.v1.Payload.encode(payload).finish();
        const digest = createHash('sha256').update(bytes).digest('hex');
        const folder = join(this.root, namespace);
        const file = join(folder, digest);
        const now = new Date();
        // Already there (the same payload again): refresh its age instead of writing it twice.
        const refreshed = await utimes(file, now, now).then(
          () => true,
          () => false,
        );
        if (!refreshed) {
          await mkdir(folder, { recursive: true });
          // Written whole, then renamed: a reader never sees half a payload.
          const partial = join(folder, `.${digest}.${randomUUID()}.partial`);
          await writeFile(partial, bytes);
          await rename(partial, file);
        }
        return new StorageDriverClaim({ namespace, sha256: digest });
      }),
    );
  }

  async retrieve(_context: StorageDriverRetrieveContext, claims: StorageDriverClaim[]): Promise<Payload[]> {
    return Promise.all(
      claims.map(async ({ claimData }) => {
        const { namespace = '', sha256 = '' } = claimData;
        if (!NAMESPACE.test(namespace) || !HEX_DIGEST.test(sha256)) throw new ValueError(`not a claim of this store: ${JSON.stringify(claimData)}`);
        const file = join(this.root, namespace, sha256);
        const bytes = await readFile(file).catch((error: NodeJS.ErrnoException) => {
          throw new ValueError(
            error.code === 'ENOENT'
              ? `large payload ${sha256} is not in ${this.root}: every process of the deployment must share this folder (SWITCHYARD_LARGE_PAYLOADS_DIR), and files must outlive the workflows that use them`
              : `large payload ${sha256} could not be read: ${error.message}`,
          );
        });
        if (createHash('sha256').update(bytes).digest('hex') !== sha256) throw new ValueError(`large payload ${sha256} is corrupt (its hash does not match)`);
        // Read again (a replay, a query): it is still in use, so it is kept.
        const now = new Date();
        await utimes(file, now, now).catch(() => undefined);
        return temporal.api.common.v1.Payload.decode(bytes) as Payload;
      }),
    );
  }
}

/** The SDK's External Storage with the folder driver. */
export function externalStorageFor(settings: LargePayloadSettings): ExternalStorage {
  return new ExternalStorage({ drivers: [new FolderStorageDriver(settings.dir)], payloadSizeThreshold: settings.thresholdBytes });
}

/** Deletes stored payloads not read or written for `retentionDays`; returns how many. */
export async function sweepLargePayloads(settings: LargePayloadSettings, now = Date.now()): Promise<number> {
  const cutoff = now - settings.retentionDays * 86_400_000;
  let deleted = 0;
  const namespaces = await readdir(settings.dir).catch(() => [] as string[]);
  for (const namespace of namespaces) {
    const folder = join(settings.dir, namespace);
    for (const name of await readdir(folder).catch(() => [] as string[])) {
      const file = join(folder, name);
      const info = await stat(file).catch(() => undefined);
      if (info?.isFile() && info.mtimeMs < cutoff) {
        await rm(file, { force: true });
        deleted += 1;
      }
    }
  }
  return deleted;
}

/** Sweeps the folder now and every six hours; a failed sweep is logged, never fatal. Returns a stop function. */
export function startLargePayloadSweep(settings: LargePayloadSettings | undefined, log: (line: Record<string, unknown>) => void): () => void {
  if (settings === undefined) return () => undefined;
  const sweep = () =>
    sweepLargePayloads(settings).then(
      (deleted) => deleted > 0 && log({ level: 'info', msg: 'large payloads swept', deleted, dir: settings.dir }),
      (error: unknown) => log({ level: 'warn', msg: 'large payload sweep failed', error: String(error) }),
    );
  void sweep();
  const timer = setInterval(() => void sweep(), 6 * 3_600_000);
  timer.unref();
  return () => clearInterval(timer);
}
