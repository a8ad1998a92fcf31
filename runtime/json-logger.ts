import { DefaultLogger, type LogLevel, type LogMetadata } from '@temporalio/worker';

/**
 * The Temporal runtime's logger as one JSON line per event on stderr, with
 * the SDK's metadata (workflow id, activity type, task queue, attempt). Errors
 * become `{type, message}`: no stack, and failure messages are already scrubbed
 * of keys by the adapters' classifiers.
 */
export function jsonLogger(level: LogLevel = 'INFO'): DefaultLogger {
  return new DefaultLogger(level, (entry) => {
    const line: Record<string, unknown> = {
      time: new Date(Number(entry.timestampNanos / 1_000_000n)).toISOString(),
      level: entry.level.toLowerCase(),
      msg: entry.message,
    };
    for (const [key, value] of Object.entries(entry.meta ?? ({} as LogMetadata))) line[key] = plain(value);
    process.stderr.write(`${JSON.stringify(line)}\n`);
  });
}

function plain(value: unknown): unknown {
  if (value instanceof Error) {
    const type = (value as { type?: unknown }).type;
    return { type: typeof type === 'string' ? type : value.name, message: value.message.slice(0, 500) };
  }
  return value;
}

/** One JSON log line on stderr, stamped with the time: the gateway's own log lines. */
export function logLine(line: Record<string, unknown>): void {
  process.stderr.write(`${JSON.stringify({ time: new Date().toISOString(), ...line })}\n`);
}
