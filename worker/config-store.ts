import { watchFile, unwatchFile } from 'node:fs';
import type { ModelAdapter } from '../activities/providers/model-adapter';
import { createModelAdapter } from '../activities/providers/registry';
import { loadConfigFile, resolveApiKey, type LoadedConfig } from './load-config';

/** How often a watched config file is checked for changes. */
const WATCH_INTERVAL_MS = 2_000;

/** The config in force and what is built from it; replaced whole on a reload. */
export interface ConfigState {
  readonly loaded: LoadedConfig;
  /** One adapter per configured provider; keys are resolved here and stay in this process. */
  readonly adapters: ReadonlyMap<string, ModelAdapter>;
}

export type AuditLog = (event: Record<string, unknown>) => void;

/**
 * The process's current config. A reload swaps it whole for new requests;
 * a running workflow keeps the routing snapshot it took at its start (it is
 * in its history). Every change is written to the audit log with both
 * versions.
 */
export class ConfigStore {
  private state: ConfigState;

  constructor(
    loaded: LoadedConfig,
    readonly env: Readonly<Record<string, string | undefined>>,
    /** Where config changes are reported; the process points it at its audit trail once connected. */
    public audit: AuditLog = auditToStderr,
  ) {
    this.state = { loaded, adapters: buildAdapters(loaded, env) };
  }

  get current(): ConfigState {
    return this.state;
  }

  get config(): LoadedConfig {
    return this.state.loaded;
  }

  /**
   * Reads `path` again. A config that does not load is reported and the
   * current one stays in force.
   * @returns whether the config in force changed.
   */
  reload(path: string, trigger: string): boolean {
    const previous = this.state.loaded.version;
    let next: LoadedConfig;
    try {
      next = loadConfigFile(path, this.env);
    } catch (error) {
      this.audit({ audit: 'config_rejected', path, trigger, version: previous, error: error instanceof Error ? error.message : String(error) });
      return false;
    }
    if (next.version === previous) return false;
    this.state = { loaded: next, adapters: buildAdapters(next, this.env) };
    this.audit({ audit: 'config_changed', path, trigger, version: next.version, previousVersion: previous });
    return true;
  }

  /** Reloads when the file changes (polled) or on SIGHUP. @returns a function that stops watching. */
  watch(path: string): () => void {
    const onChange = (): void => void this.reload(path, 'file changed');
    const onHangup = (): void => void this.reload(path, 'SIGHUP');
    watchFile(path, { interval: WATCH_INTERVAL_MS, persistent: false }, onChange);
    process.on('SIGHUP', onHangup);
    return () => {
      unwatchFile(path, onChange);
      process.off('SIGHUP', onHangup);
    };
  }
}

function buildAdapters(loaded: LoadedConfig, env: Readonly<Record<string, string | undefined>>): Map<string, ModelAdapter> {
  const adapters = new Map<string, ModelAdapter>();
  for (const [providerId, provider] of Object.entries(loaded.config.providers)) {
    adapters.set(
      providerId,
      createModelAdapter(provider.type, {
        providerId,
        baseUrl: provider.baseUrl,
        apiKey: resolveApiKey(provider.apiKeyEnv, env),
        requestTimeoutMs: provider.timeouts.requestMs,
        streamTimeoutMs: provider.timeouts.streamMs,
      }),
    );
  }
  return adapters;
}

function auditToStderr(event: Record<string, unknown>): void {
  process.stderr.write(`${JSON.stringify({ time: new Date().toISOString(), level: 'info', ...event })}\n`);
}
