import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import type { z } from 'zod';
import { GatewayConfigSchema, type GatewayConfig } from '../common/config-schema';

/** A validated, frozen config and the version hash every workflow records. */
export interface LoadedConfig {
  readonly config: GatewayConfig;
  /** `sha256:` + first 16 hex digits of the canonical JSON of the parsed config. */
  readonly version: string;
  /**
   * Top-level sections the source itself wrote, defaults not counted: a
   * reload that drops one of them needs `confirmRemoval` (runtime/config-removal-guard.ts).
   */
  readonly sections: readonly string[];
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/**
 * Reads a YAML or JSON config file, expands `${NAME}` / `${NAME:-default}` / `${NAME:?message}`
 * from `env` in its string values (after parsing), validates it and freezes
 * it. Errors name the file and field.
 */
export function loadConfigFile(path: string, env: Readonly<Record<string, string | undefined>>): LoadedConfig {
  return parseConfigText(readConfigText(path), path, env);
}

/** The file's text, or a `ConfigError` naming the file. */
function readConfigText(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError(`cannot read config file ${path}: ${(error as Error).message}`);
  }
}

/** `loadConfigFile` on text already read (a reload reads the file only once it has settled). */
export function parseConfigText(text: string, path: string, env: Readonly<Record<string, string | undefined>>): LoadedConfig {
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch (error) {
    const hint = text.includes('${') ? ' (inside [ ] or { }, quote a value that uses ${…}: "${NAME}")' : '';
    throw new ConfigError(`config file ${path} is not valid YAML/JSON${hint}: ${(error as Error).message}`);
  }
  // Expanded in the parsed strings, never the text: a value holding `#`, `: ` or a newline stays one string.
  return parseConfig(expandInValues(raw, env, path), path);
}

/** Validates an in-memory config (tests and embedders build it as an object). */
export function parseConfig(raw: unknown, source = 'config'): LoadedConfig {
  const result = GatewayConfigSchema.safeParse(raw);
  if (!result.success) throw new ConfigError(`invalid ${source}:\n${formatIssues(result.error)}`);
  const config = deepFreeze(result.data);
  const version = `sha256:${createHash('sha256').update(canonicalJson(config)).digest('hex').slice(0, 16)}`;
  const sections = Object.freeze(Object.keys(raw as object));
  return Object.freeze({ config, version, sections });
}

/** Provider keys are read here, by env var name, and only on the worker. */
export function resolveApiKey(apiKeyEnv: string | undefined, env: Readonly<Record<string, string | undefined>>): string | undefined {
  if (!apiKeyEnv) return undefined;
  const value = env[apiKeyEnv];
  return value && value.length > 0 ? value : undefined;
}

/** Every string in `value`, keys excepted, with its variables expanded. */
function expandInValues(value: unknown, env: Readonly<Record<string, string | undefined>>, path: string): unknown {
  if (typeof value === 'string') return expandVariables(value, env, path);
  if (Array.isArray(value)) return value.map((item) => expandInValues(item, env, path));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, expandInValues(inner, env, path)]));
  }
  return value;
}

/**
 * `${NAME}`, `${NAME:-default}` (the default when unset or empty) and
 * `${NAME:?message}` (required: unset or empty refuses the file with the
 * message, as a shell or compose does). A value is never printed.
 */
function expandVariables(text: string, env: Readonly<Record<string, string | undefined>>, path: string): string {
  return text.replace(/\$\{([A-Z_][A-Z0-9_]*)(?:(:-|:\?)([^}]*))?\}/g, (_match, name: string, operator: string | undefined, operand: string | undefined) => {
    const value = env[name];
    if (value !== undefined && value !== '') return value;
    if (operator === ':-') return operand ?? '';
    const why = operator === ':?' && operand ? `: ${operand}` : '';
    throw new ConfigError(`config file ${path} uses \${${name}} but the environment variable ${name} is not set${why}`);
  });
}

function formatIssues(error: z.ZodError): string {
  return error.issues
    .map((issue) => `  - ${issue.path.length > 0 ? issue.path.join('.') : '(root)'}: ${issue.message}`)
    .join('\n');
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([key, inner]) => `${JSON.stringify(key)}:${canonicalJson(inner)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}
