import type { GatewayConfig } from '../common/config-schema';
import { own } from '../common/own';

/** Most paths one list of a summary names; the rest are counted in `omittedPaths`. */
const MAX_PATHS_PER_LIST = 100;

/**
 * What a reload changed, by name only: config values (key digests, URLs,
 * messages) never appear, so the summary may go to logs and the audit trail.
 */
export interface ConfigChangeSummary {
  /** Top-level sections whose value changed, sorted. */
  sections: string[];
  /** Paths (`routes.reloaded`) present now and not before. */
  added: string[];
  /** Paths present before and not now. */
  removed: string[];
  /** Paths present in both whose value differs; an array is one value (`tenants.alpha.keySha256`). */
  changed: string[];
  /** Paths left out of the lists above to keep the event small. */
  omittedPaths?: number;
}

/** Compares two parsed configs, defaults filled in, down to the first differing member of each path. */
export function diffConfigs(previous: GatewayConfig, next: GatewayConfig): ConfigChangeSummary {
  const lists = { added: [] as string[], removed: [] as string[], changed: [] as string[] };
  const sections: string[] = [];
  for (const section of unionOfKeys(previous, next)) {
    const before = own(previous as Record<string, unknown>, section);
    const after = own(next as Record<string, unknown>, section);
    if (sameValue(before, after)) continue;
    sections.push(section);
    comparePaths(before, after, [section], lists);
  }
  let omittedPaths = 0;
  const capped = (list: string[]): string[] => {
    omittedPaths += Math.max(0, list.length - MAX_PATHS_PER_LIST);
    return list.slice(0, MAX_PATHS_PER_LIST);
  };
  return {
    sections,
    added: capped(lists.added),
    removed: capped(lists.removed),
    changed: capped(lists.changed),
    ...(omittedPaths > 0 ? { omittedPaths } : {}),
  };
}

/** A path as one string: `models["gpt-4.1"].pricing`, plain names dotted. */
export function formatPath(path: readonly string[]): string {
  return path.map((name, index) => (/^[A-Za-z0-9_-]+$/.test(name) ? (index === 0 ? name : `.${name}`) : `[${JSON.stringify(name)}]`)).join('');
}

function comparePaths(before: unknown, after: unknown, path: string[], lists: { added: string[]; removed: string[]; changed: string[] }): void {
  if (before === undefined) {
    lists.added.push(formatPath(path));
  } else if (after === undefined) {
    lists.removed.push(formatPath(path));
  } else if (isRecord(before) && isRecord(after)) {
    for (const key of unionOfKeys(before, after)) {
      if (!sameValue(own(before, key), own(after, key))) comparePaths(own(before, key), own(after, key), [...path, key], lists);
    }
  } else {
    lists.changed.push(formatPath(path));
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function unionOfKeys(a: object, b: object): string[] {
  return [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
}

function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((item, index) => sameValue(item, b[index]));
  if (isRecord(a) && isRecord(b)) {
    return unionOfKeys(a, b).every((key) => sameValue(own(a, key), own(b, key)));
  }
  return false;
}
