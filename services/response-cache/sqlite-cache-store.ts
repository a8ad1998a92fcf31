import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'libsql';
import { tenantOfCacheKey, type CacheStore } from './cache-store';

/** How often entries past their retention are deleted. */
const PURGE_INTERVAL_MS = 10 * 60_000;

/**
 * The embedded cache: a SQLite file (through `libsql`, prebuilt for each
 * platform) in WAL mode, so several processes on one host may share it.
 * Entries past their retention are deleted on open and every ten minutes,
 * and never read. Each row names its tenant (`tenant_id`), so a tenant's
 * entries are purged together; rows from before that column (NULL) are
 * never read, since their keys lack the tenant prefix, and age out.
 */
export class SqliteCacheStore implements CacheStore {
  private readonly db: Database.Database;
  private readonly purgeTimer: NodeJS.Timeout;
  private readonly select: Database.Statement;
  private readonly upsert: Database.Statement;
  private readonly purgeStatement: Database.Statement;
  private readonly purgeTenantStatement: Database.Statement;

  constructor(readonly file: string) {
    mkdirSync(dirname(file), { recursive: true });
    this.db = new Database(file);
    this.db.exec('PRAGMA journal_mode = WAL');
    this.db.exec('PRAGMA busy_timeout = 5000');
    this.db.exec(
      'CREATE TABLE IF NOT EXISTS answers (key TEXT PRIMARY KEY, value TEXT NOT NULL, stored_at INTEGER NOT NULL, expires_at INTEGER NOT NULL)',
    );
    const columns = this.db.prepare('PRAGMA table_info(answers)').all() as { name: string }[];
    if (!columns.some((column) => column.name === 'tenant_id')) this.db.exec('ALTER TABLE answers ADD COLUMN tenant_id TEXT');
    this.db.exec('CREATE INDEX IF NOT EXISTS answers_expires_at ON answers (expires_at)');
    this.db.exec('CREATE INDEX IF NOT EXISTS answers_tenant_id ON answers (tenant_id)');
    this.select = this.db.prepare('SELECT value FROM answers WHERE key = ? AND expires_at > ?');
    this.upsert = this.db.prepare('INSERT OR REPLACE INTO answers (key, tenant_id, value, stored_at, expires_at) VALUES (?, ?, ?, ?, ?)');
    this.purgeStatement = this.db.prepare('DELETE FROM answers WHERE expires_at <= ?');
    this.purgeTenantStatement = this.db.prepare('DELETE FROM answers WHERE tenant_id = ?');
    this.purge();
    this.purgeTimer = setInterval(() => this.purge(), PURGE_INTERVAL_MS);
    this.purgeTimer.unref();
  }

  get(key: string): Promise<string | undefined> {
    const row = this.select.get(key, Date.now()) as { value?: string } | undefined;
    return Promise.resolve(row?.value);
  }

  set(key: string, value: string, storedAt: number, retentionMs: number): Promise<void> {
    this.upsert.run(key, tenantOfCacheKey(key), value, storedAt, storedAt + retentionMs);
    return Promise.resolve();
  }

  purgeTenant(tenantId: string): Promise<number> {
    return Promise.resolve(Number(this.purgeTenantStatement.run(tenantId).changes));
  }

  /** Deletes entries past their retention; returns how many. */
  purge(): number {
    return Number(this.purgeStatement.run(Date.now()).changes);
  }

  close(): Promise<void> {
    clearInterval(this.purgeTimer);
    this.db.close();
    return Promise.resolve();
  }
}
