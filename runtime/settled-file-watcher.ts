import { readFileSync, statSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

/** How often a watched file is checked; a change is taken once two checks in a row agree. */
export const WATCH_INTERVAL_MS = 2_000;
/** On a signal, how long the file must stay unchanged before it is read. */
export const SIGNAL_SETTLE_MS = 250;

/** What tells two versions of a file apart without reading it; `missing` when there is no file. */
export type FileStamp = string;

/** What the file held once it had settled: its text, or why it could not be read. */
export type SettledRead = { text: string } | { error: string };

export interface SettledFileWatcherOptions {
  /** @default the file's inode, size and mtime, from `statSync` */
  stamp?: (path: string) => FileStamp;
  /** @default `readFileSync(path, 'utf8')` */
  read?: (path: string) => string;
  /** Calls `tick` every `intervalMs` until the returned function is called. @default an unref'd `setInterval` */
  every?: (intervalMs: number, tick: () => void) => () => void;
  /** @default an unref'd timer */
  wait?: (ms: number) => Promise<void>;
  /** @default WATCH_INTERVAL_MS */
  intervalMs?: number;
  /** @default SIGNAL_SETTLE_MS */
  settleMs?: number;
}

/**
 * Hands a file over only once it is complete. Editors and deploy tools write
 * a file in pieces, and a file cut short may still validate, so a change is
 * read only when the file's stamp (inode, size, mtime) is the same at two
 * checks in a row and still the same after the read. A file still changing is
 * not read at all: the next checks pick it up once it has settled.
 */
export class SettledFileWatcher {
  private readonly stamp: (path: string) => FileStamp;
  private readonly read: (path: string) => string;
  private readonly wait: (ms: number) => Promise<void>;
  private readonly settleMs: number;
  /** The stamp the last poll saw. */
  private lastPolled: FileStamp;
  /** The stamp of the text handed over last; unset: not handed over since watching began. */
  private lastTaken: FileStamp | undefined;
  private stopTimer: (() => void) | undefined;

  constructor(
    readonly path: string,
    private readonly onSettled: (read: SettledRead, trigger: string) => void,
    private readonly options: SettledFileWatcherOptions = {},
  ) {
    this.stamp = options.stamp ?? stampOf;
    this.read = options.read ?? ((file) => readFileSync(file, 'utf8'));
    this.wait = options.wait ?? ((ms) => sleep(ms, undefined, { ref: false }));
    this.settleMs = options.settleMs ?? SIGNAL_SETTLE_MS;
    this.lastPolled = this.stamp(path);
  }

  /** Polls every `intervalMs`. @returns a function that stops polling. */
  start(): () => void {
    const every = this.options.every ?? everyUnref;
    this.stopTimer ??= every(this.options.intervalMs ?? WATCH_INTERVAL_MS, () => this.poll());
    return () => {
      this.stopTimer?.();
      this.stopTimer = undefined;
    };
  }

  /**
   * One check: a stamp that differs from the last check's means the file is
   * still changing (wait); one that agrees and was not handed over yet is read.
   * The first check after watching began re-reads the file once, in case it
   * changed between the first load and the watch.
   * @returns whether the file was handed over.
   */
  poll(): boolean {
    const stamp = this.stamp(this.path);
    const previous = this.lastPolled;
    this.lastPolled = stamp;
    if (stamp !== previous || stamp === this.lastTaken) return false;
    return this.take(stamp, 'file changed');
  }

  /**
   * Reads the file now (a signal asked for it), if it stays unchanged for
   * `settleMs`; a file still changing is left to the polls.
   * @returns whether the file was handed over.
   */
  async takeNow(trigger: string): Promise<boolean> {
    const first = this.stamp(this.path);
    await this.wait(this.settleMs);
    const second = this.stamp(this.path);
    if (first !== second) return false;
    return this.take(second, trigger);
  }

  /** Reads the file at `stamp` and hands it over, unless it changed while being read. */
  private take(stamp: FileStamp, trigger: string): boolean {
    let read: SettledRead;
    try {
      read = { text: this.read(this.path) };
    } catch (error) {
      read = { error: `cannot read config file ${this.path}: ${error instanceof Error ? error.message : String(error)}` };
    }
    if (this.stamp(this.path) !== stamp) return false;
    this.lastTaken = stamp;
    this.onSettled(read, trigger);
    return true;
  }
}

function stampOf(path: string): FileStamp {
  try {
    const stats = statSync(path, { throwIfNoEntry: false });
    return stats === undefined ? 'missing' : `${stats.ino}:${stats.size}:${stats.mtimeMs}`;
  } catch (error) {
    // Unreadable (permissions, …): a stamp like any other, so the read reports why once it stays so.
    return `unreadable:${(error as NodeJS.ErrnoException).code ?? 'unknown'}`;
  }
}

function everyUnref(intervalMs: number, tick: () => void): () => void {
  const timer = setInterval(tick, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
