// The recorded workflow histories under test/fixtures/histories/: each is
// listed with its sha256 in manifest.json, so a rewritten fixture fails the
// replay test. Fixtures are only ever added (the recorder writes a new set
// folder and refuses to overwrite a file), never changed or removed.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';

export const HISTORIES_DIRECTORY = resolve(__dirname, '../fixtures/histories');
export const MANIFEST_FILE = join(HISTORIES_DIRECTORY, 'manifest.json');

export interface HistoryEvent {
  eventType: string;
  workflowExecutionStartedEventAttributes?: { workflowType?: { name?: string }; input?: { payloads?: { data?: string }[] } };
  [attributes: string]: unknown;
}

export interface HistoryFixture {
  /** Path relative to the histories folder, with `/` separators. */
  path: string;
  workflowType: string;
  history: { events: HistoryEvent[] };
}

/** Every fixture file (recursively), as paths relative to the histories folder, sorted. */
export function fixturePaths(directory = HISTORIES_DIRECTORY): string[] {
  const found: string[] = [];
  const walk = (folder: string): void => {
    for (const entry of readdirSync(folder, { withFileTypes: true })) {
      const path = join(folder, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.json') && path !== join(directory, 'manifest.json')) found.push(relative(directory, path).split(sep).join('/'));
    }
  };
  walk(directory);
  return found.sort();
}

export function readFixtures(directory = HISTORIES_DIRECTORY): HistoryFixture[] {
  return fixturePaths(directory).map((path) => {
    const history = JSON.parse(readFileSync(join(directory, path), 'utf8')) as { events: HistoryEvent[] };
    const workflowType = history.events[0]?.workflowExecutionStartedEventAttributes?.workflowType?.name ?? 'unknown';
    return { path, workflowType, history };
  });
}

export function sha256OfFile(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

/** path → sha256 of every fixture committed so far. */
export function readManifest(file = MANIFEST_FILE): Record<string, string> {
  if (!existsSync(file)) return {};
  return (JSON.parse(readFileSync(file, 'utf8')) as { fixtures: Record<string, string> }).fixtures;
}

/**
 * Adds fixtures the manifest does not list yet. A listed fixture's hash is
 * never changed here: a rewritten fixture must fail the manifest test, not
 * be blessed by the next recording.
 */
export function addToManifest(paths: readonly string[], directory = HISTORIES_DIRECTORY): void {
  const file = join(directory, 'manifest.json');
  const fixtures = { ...readManifest(file) };
  for (const path of paths) fixtures[path] ??= sha256OfFile(join(directory, path));
  const sorted = Object.fromEntries(Object.entries(fixtures).sort(([left], [right]) => left.localeCompare(right)));
  writeFileSync(
    file,
    `${JSON.stringify({ note: 'sha256 of every recorded history; fixtures are added, never rewritten (test/workflows/replay.test.ts)', fixtures: sorted }, null, 2)}\n`,
  );
}
