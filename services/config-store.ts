import type { ModelAdapter } from '../activities/providers/model-adapter';
import { createModelAdapter } from '../activities/providers/registry';
import { diffConfigs } from '../runtime/config-diff';
import { checkRemovals, describeRefusal } from '../runtime/config-removal-guard';
import { ConfigError, loadConfigFile, parseConfigText, resolveApiKey, type LoadedConfig } from '../runtime/load-config';
import { SettledFileWatcher, type SettledFileWatcherOptions } from '../runtime/settled-file-watcher';

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
 * versions and what changed, by name; a reload that would drop a section or
 * the last tenant key without `confirmRemoval` is refused.
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

  /** The config in force: `loaded.config`, its `version`. */
  get loaded(): LoadedConfig {
    return this.state.loaded;
  }

  /**
   * Reads `path` again, at once (the file watch waits for it to settle first).
   * A config that does not load, or removes what it does not confirm, is
   * reported and the current one stays in force.
   * @returns whether the config in force changed.
   */
  reload(path: string, trigger: string): boolean {
    return this.apply(path, trigger, () => loadConfigFile(path, this.env));
  }

  /**
   * Reloads when the file changes and has settled (polled), or on SIGHUP once
   * it holds still for a moment. @returns a function that stops watching.
   */
  watch(path: string, options?: SettledFileWatcherOptions): () => void {
    const watcher = new SettledFileWatcher(
      path,
      (read, trigger) =>
        void this.apply(path, trigger, () => {
          if ('error' in read) throw new ConfigError(read.error);
          return parseConfigText(read.text, path, this.env);
        }),
      options,
    );
    const stopPolling = watcher.start();
    const onHangup = (): void => void watcher.takeNow('SIGHUP');
    process.on('SIGHUP', onHangup);
    return () => {
      stopPolling();
      process.off('SIGHUP', onHangup);
    };
  }

  private apply(path: string, trigger: string, load: () => LoadedConfig): boolean {
    const previous = this.state.loaded;
    const rejected = (event: Record<string, unknown>): false => {
      this.audit({ audit: 'config_rejected', path, trigger, version: previous.version, ...event });
      return false;
    };
    let next: LoadedConfig;
    try {
      next = load();
    } catch (error) {
      return rejected({ error: error instanceof Error ? error.message : String(error) });
    }
    if (next.version === previous.version) return false;
    const summary = diffConfigs(previous.config, next.config);
    const removals = checkRemovals(previous, next, summary);
    if (removals.unconfirmed.length > 0) {
      return rejected({ rejectedVersion: next.version, error: describeRefusal(path, removals), unconfirmedRemovals: removals.unconfirmed });
    }
    this.state = { loaded: next, adapters: buildAdapters(next, this.env) };
    this.audit({
      audit: 'config_changed',
      path,
      trigger,
      version: next.version,
      previousVersion: previous.version,
      ...summary,
      ...(removals.removals.length > 0 ? { confirmedRemovals: removals.removals } : {}),
    });
    return true;
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
