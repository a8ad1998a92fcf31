// The memory bench's figures per process and phase, drawn from its samples,
// and the table printed from them.

/** The goal: no process grows more than this after its warm-up. */
export const GROWTH_LIMIT_MIB = 48;

export type Phase = 'failing' | 'succeeding';

export interface MemorySample {
  /** Seconds since the first phase started. */
  at: number;
  phase: Phase;
  /** Requests answered so far in this phase. */
  answered: number;
  rssMiB: Record<string, number>;
  heapUsedMiB?: Record<string, number>;
}

export interface ProcessFigures {
  process: string;
  phase: Phase;
  /** The single readings right after warm-up and at the end. */
  rssAfterWarmupMiB: number;
  rssEndMiB: number;
  /** Median RSS of the phase's last tenth minus that of the tenth after warm-up: what the goal weighs. */
  growthAfterWarmupMiB: number;
  steadyStateMiB: number;
  peakMiB: number;
  heapAfterWarmupMiB: number | null;
  heapEndMiB: number | null;
  /**
   * The V8 heap's floor (lowest reading, i.e. just after a collection) over
   * the tenth of the phase after warm-up and over its last tenth: what stays
   * alive. RSS swings with V8's collection rhythm; a leak shows as a rising floor.
   */
  heapFloorAfterWarmupMiB: number | null;
  heapFloorEndMiB: number | null;
  withinGoal: boolean;
}

export function figuresOf(samples: readonly MemorySample[], phase: Phase, name: string, warmup: number): ProcessFigures | undefined {
  const own = samples.filter((sample) => sample.phase === phase && Number.isFinite(sample.rssMiB[name]));
  const last = own.at(-1);
  if (!last) return undefined;
  const afterWarmup = own.find((sample) => sample.answered >= warmup) ?? last;
  const rss = (sample: MemorySample) => sample.rssMiB[name]!;
  const heaps = own.filter((sample) => Number.isFinite(sample.heapUsedMiB?.[name]));
  const heapAfterWarmup = heaps.find((sample) => sample.answered >= warmup);
  const heapOf = (sample: MemorySample) => sample.heapUsedMiB![name]!;
  const afterWarmupHeaps = heaps.filter((sample) => sample.answered >= warmup);
  const tenth = Math.max(1, Math.floor(afterWarmupHeaps.length / 10));
  const floor = (part: readonly MemorySample[]) => (part.length === 0 ? null : Math.min(...part.map(heapOf)));
  const lastQuarter = own.filter((sample) => sample.at >= own[0]!.at + 0.75 * (last.at - own[0]!.at)).map(rss).sort((left, right) => left - right);
  // Growth compares medians, not two single readings: RSS swings by a hundred MiB with V8's
  // collections (one run's last reading caught the worker at 720 MiB with 300 MiB of heap in use
  // and a 130 MiB heap floor). Medians of the tenth after warm-up and of the last tenth.
  const afterWarmupRss = own.filter((sample) => sample.answered >= warmup);
  const rssTenth = Math.max(1, Math.floor(afterWarmupRss.length / 10));
  const median = (part: readonly MemorySample[]) => {
    const sorted = part.map(rss).sort((left, right) => left - right);
    return sorted[Math.floor(sorted.length / 2)] ?? rss(last);
  };
  const growth = median(afterWarmupRss.slice(-rssTenth)) - median(afterWarmupRss.slice(0, rssTenth));
  return {
    process: name,
    phase,
    rssAfterWarmupMiB: rss(afterWarmup),
    rssEndMiB: rss(last),
    growthAfterWarmupMiB: growth,
    steadyStateMiB: lastQuarter[Math.floor(lastQuarter.length / 2)] ?? rss(last),
    peakMiB: Math.max(...own.map(rss)),
    heapAfterWarmupMiB: heapAfterWarmup?.heapUsedMiB?.[name] ?? null,
    heapEndMiB: heaps.at(-1)?.heapUsedMiB?.[name] ?? null,
    heapFloorAfterWarmupMiB: floor(afterWarmupHeaps.slice(0, tenth)),
    heapFloorEndMiB: floor(afterWarmupHeaps.slice(-tenth)),
    withinGoal: growth <= GROWTH_LIMIT_MIB,
  };
}

export function formatMemoryReport(
  phases: readonly { phase: Phase; requests: number; ok: number; errors: Record<string, number>; seconds: number; requestsPerSecond: number }[],
  figures: readonly ProcessFigures[],
  context: { concurrency: number; warmupRequests: number; adminFailures: string[]; stoppedEarly: string | null; loadAverageBefore: number[]; loadAverageAfter: number[] },
): string {
  const mib = (value: number | null) => (value === null || !Number.isFinite(value) ? '-' : value.toFixed(1));
  const lines = ['', `Memory: 1 API + 1 worker process, concurrency ${context.concurrency}, warm-up = each phase's first ${context.warmupRequests} requests`, ''];
  lines.push('| phase | requests | as expected | seconds | req/s | errors |', '| --- | --- | --- | --- | --- | --- |');
  for (const phase of phases) {
    const errors = Object.entries(phase.errors).map(([kind, count]) => `${kind} ${count}`).join(', ') || '—';
    lines.push(`| ${phase.phase} | ${phase.requests} | ${phase.ok} | ${phase.seconds.toFixed(0)} | ${phase.requestsPerSecond.toFixed(1)} | ${errors} |`);
  }
  lines.push(
    '',
    '| phase | process | RSS after warm-up MiB | RSS at end MiB | growth after warm-up MiB | steady state MiB | peak MiB | V8 heap used after warm-up → end MiB | V8 heap floor after warm-up → last tenth MiB | goal (≤ 48 MiB growth) |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
  );
  for (const row of figures) {
    lines.push(
      `| ${row.phase} | ${row.process} | ${mib(row.rssAfterWarmupMiB)} | ${mib(row.rssEndMiB)} | ${row.growthAfterWarmupMiB >= 0 ? '+' : ''}${mib(row.growthAfterWarmupMiB)} | ${mib(row.steadyStateMiB)} | ${mib(row.peakMiB)} | ${mib(row.heapAfterWarmupMiB)} → ${mib(row.heapEndMiB)} | ${mib(row.heapFloorAfterWarmupMiB)} → ${mib(row.heapFloorEndMiB)} | ${row.withinGoal ? 'met' : 'NOT met'} |`,
    );
  }
  lines.push(
    '',
    'Failing: every model answers 500/503 with its breaker forced closed, so each request calls every model (3 models, one try each) and ends in the deterministic fallback.',
    'Steady state: the median RSS over the last quarter of the phase. RSS from /proc/<pid>/status (VmRSS) every second.',
    'Heap floor: the lowest V8 heap-in-use reading (5 s samples) in the tenth of the phase after warm-up and in its last tenth: what survives collections.',
    `Load average (1/5/15 min) before ${context.loadAverageBefore.join(' ')}, after ${context.loadAverageAfter.join(' ')}; the load generator, mock and dev server share this machine.`,
    ...context.adminFailures.map((failure) => `Admin API switch failed (sent as the force update instead): ${failure}`),
    ...(context.stoppedEarly ? [`Stopped early: ${context.stoppedEarly}`] : []),
  );
  return lines.join('\n');
}
