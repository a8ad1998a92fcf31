// Summarizes the V8 CPU profiles `npm run bench -- --cpu-prof-dir DIR` writes:
// per profile (one per thread of each process), busy time and where it went —
// by package (node_modules/<name>), this project's own folders, Node's
// internals and the garbage collector — and the busiest functions.
//
//   node --import tsx bench/summarize-profile.ts DIR [--top 12]
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** Where a frame's code lives: a package, one of this project's top-level folders, Node itself, or V8's own states. */
function placeOf(url: string, functionName: string): string {
  if (url === '') return functionName.startsWith('(') ? functionName : '(native)';
  const modules = url.lastIndexOf('/node_modules/');
  if (modules >= 0) {
    const rest = url.slice(modules + '/node_modules/'.length).split('/');
    return rest[0]?.startsWith('@') ? `${rest[0]}/${rest[1] ?? ''}` : (rest[0] ?? url);
  }
  if (url.startsWith('node:')) return 'node (internals)';
  const file = url.replace(/^file:\/\//, '');
  const relative = path.relative(process.cwd(), file);
  if (!relative.startsWith('..')) return `project: ${relative.split(path.sep)[0] ?? relative}/`;
  return url.includes('workflow-bundle') || url.startsWith('evalmachine') ? 'workflow bundle (sandbox)' : url;
}

/** Self time by place and by function, in ms, from one profile. */
function summarize(profile: CpuProfile): { totalMs: number; idleMs: number; byPlace: Map<string, number>; byFunction: Map<string, number> } {
  const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
  const byPlace = new Map<string, number>();
  const byFunction = new Map<string, number>();
  let totalMs = 0;
  let idleMs = 0;
  profile.samples.forEach((id, index) => {
    const ms = (profile.timeDeltas[index] ?? 0) / 1000;
    const frame = nodes.get(id)?.callFrame;
    if (!frame) return;
    totalMs += ms;
    if (frame.functionName === '(idle)') {
      idleMs += ms;
      return;
    }
    const place = placeOf(frame.url, frame.functionName);
    byPlace.set(place, (byPlace.get(place) ?? 0) + ms);
    const name = `${frame.functionName || '(anonymous)'} ${place}${frame.url ? `:${frame.lineNumber + 1}` : ''}`;
    byFunction.set(name, (byFunction.get(name) ?? 0) + ms);
  });
  return { totalMs, idleMs, byPlace, byFunction };
}

function top(map: Map<string, number>, count: number): [string, number][] {
  return [...map.entries()].sort((a, b) => b[1] - a[1]).slice(0, count);
}

function main(): void {
  const { values, positionals } = parseArgs({ allowPositionals: true, options: { top: { type: 'string', default: '12' } } });
  const directory = positionals[0];
  if (directory === undefined) {
    process.stderr.write('usage: node --import tsx bench/summarize-profile.ts DIR [--top 12]\n');
    process.exit(2);
  }
  const count = Number(values.top);
  const files = readdirSync(directory).filter((name) => name.endsWith('.cpuprofile')).sort();
  if (files.length === 0) {
    process.stderr.write(`no .cpuprofile files in ${directory}\n`);
    process.exit(1);
  }
  for (const file of files) {
    const profile = JSON.parse(readFileSync(path.join(directory, file), 'utf8')) as CpuProfile;
    const summary = summarize(profile);
    const busyMs = summary.totalMs - summary.idleMs;
    process.stdout.write(`\n${file}: busy ${(busyMs / 1000).toFixed(2)} s of ${(summary.totalMs / 1000).toFixed(1)} s\n`);
    for (const [place, ms] of top(summary.byPlace, count)) {
      process.stdout.write(`  ${(ms / 1000).toFixed(2).padStart(7)} s  ${((ms / busyMs) * 100).toFixed(1).padStart(5)}%  ${place}\n`);
    }
    process.stdout.write('  busiest functions (self time):\n');
    for (const [name, ms] of top(summary.byFunction, count)) {
      process.stdout.write(`  ${(ms / 1000).toFixed(2).padStart(7)} s  ${name}\n`);
    }
  }
}

main();
