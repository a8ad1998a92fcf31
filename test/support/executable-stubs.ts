import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Throwaway directories of stub executables, to stand for PATH in a test. */
export interface ExecutableStubs {
  /** A new directory `label` holding an empty shell script per name, with `mode` (executable by default). */
  binDir(label: string, names: string[], mode?: number): string;
  remove(): void;
}

export function executableStubs(): ExecutableStubs {
  const directory = mkdtempSync(join(tmpdir(), 'switchyard-stubs-'));
  return {
    binDir(label, names, mode = 0o755) {
      const dir = join(directory, label);
      mkdirSync(dir, { recursive: true });
      for (const name of names) writeFileSync(join(dir, name), '#!/bin/sh\n', { mode });
      return dir;
    },
    remove: () => rmSync(directory, { recursive: true, force: true }),
  };
}
