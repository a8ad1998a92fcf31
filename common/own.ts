// Runs in the workflow sandbox: deterministic, no I/O.

/**
 * `record[key]` only when `record` itself has `key`: names from requests or
 * config (`constructor`, `__proto__`, `toString`…) never reach inherited members.
 */
export function own<T>(record: Readonly<Record<string, T>> | undefined, key: string): T | undefined {
  return record !== undefined && Object.hasOwn(record, key) ? record[key] : undefined;
}
