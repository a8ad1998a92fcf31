// The breaker-burst bench's printed summary: per phase the answers, the
// watched log lines per process, the attempts by failure type, what the
// breakers received and the cost at 1,000 requests/s extrapolated from it.
import type { BurstPhase } from './breaker-burst';

/**
 * Per process and breaker, as the code has them (services/breaker-board.ts): a signal per 200 ms and a
 * permit ask per 200 ms; per process for all breakers, one visibility list per second (no call to the breaker).
 */
const SIGNALS_PER_SECOND = 5;
const LISTS_PER_SECOND = 1;
const PERMITS_PER_SECOND = 5;
/** A breaker continues as new past this many events (workflows/breaker/provider-breaker-workflow.ts). */
const HISTORY_EVENTS_LIMIT = 2_000;

const sum = (values: Record<string, number>) => Object.values(values).reduce((total, value) => total + value, 0);
const fixed = (value: number, digits = 1) => (Number.isFinite(value) ? value.toFixed(digits) : '-');
const list = (counts: Record<string, number>) =>
  Object.entries(counts)
    .sort(([, left], [, right]) => right - left)
    .map(([key, count]) => `${key} ${count}`)
    .join(', ') || '—';
const row = (cells: (string | number)[]) => `| ${cells.join(' | ')} |`;
const header = (cells: string[]) => [row(cells), row(cells.map(() => '---'))];

export function formatBurstReport(
  phases: readonly BurstPhase[],
  context: { workers: number; concurrency: number; loadAverageBefore: number[]; loadAverageAfter: number[]; lineSamples: Record<string, Record<string, string[]>> },
): string {
  const out: string[] = ['', `Breaker burst: ${context.workers} worker processes + 1 API process, concurrency ${context.concurrency}`, ''];
  out.push(...header(['phase', 'requests', 'ok', 'turned away by the API, sent again', 'seconds', 'req/s', 'p50 / p95 ms', 'answered by', 'Timeout attempts', 'of them on a healthy provider']));
  for (const phase of phases) {
    out.push(
      row([
        phase.phase,
        phase.requests,
        phase.ok,
        phase.counts.turnedAway,
        fixed(phase.seconds),
        fixed(phase.requestsPerSecond),
        `${fixed(phase.latencyMs.p50, 0)} / ${fixed(phase.latencyMs.p95, 0)}`,
        list(phase.counts.answeredBy),
        phase.counts.timeouts,
        phase.counts.timeoutsOnHealthyProvider,
      ]),
    );
  }

  out.push('', 'Log lines per process (stdout + stderr) and CPU:', '');
  const patterns = Object.keys(Object.values(phases[0]?.lines ?? {})[0] ?? {});
  out.push(...header(['phase', 'process', ...patterns.map((pattern) => `"${pattern}"`), 'CPU s']));
  for (const phase of phases) {
    for (const [name, counts] of Object.entries(phase.lines)) out.push(row([phase.phase, name, ...patterns.map((pattern) => counts[pattern] ?? 0), fixed(phase.cpuSeconds[name] ?? NaN)]));
    out.push(row([phase.phase, 'temporal dev server', ...patterns.map(() => ''), fixed(phase.cpuSeconds['temporal dev server'] ?? NaN)]));
  }

  out.push('', 'Attempts (from each answer\'s gateway.attempts):', '');
  for (const phase of phases) {
    out.push(`- ${phase.phase}: ${list(phase.counts.attempts)}`);
    if (Object.keys(phase.counts.breakerOpenReasons).length > 0) out.push(`  BreakerOpen reasons: ${list(phase.counts.breakerOpenReasons)}`);
    if (Object.keys(phase.counts.rejectedByRouting).length > 0) out.push(`  skipped by routing (breaker open in its snapshot): ${list(phase.counts.rejectedByRouting)}`);
    if (Object.keys(phase.errors).length > 0) out.push(`  errors: ${list(phase.errors)}`);
    for (const sample of phase.counts.timeoutSamples) {
      out.push(`  Timeout: ${sample.model} "${sample.message}" (request sent at +${fixed(sample.requestStartedAtSeconds)} s; provider ${sample.healthy ? 'healthy' : 'faulted'})`);
    }
  }

  out.push('', 'What the breaker workflows received during each burst (from their histories, every run):', '');
  out.push(...header(['phase', 'breaker', 'runs', 'events', 'events/s', 'signals', 'outcomes (probes)', 'permit updates', 'permits granted', 'event types']));
  for (const phase of phases) {
    for (const load of phase.breakers.filter((breaker) => breaker.events > 0)) {
      out.push(
        row([
          phase.phase,
          load.workflowId,
          load.runs,
          load.events,
          fixed(load.eventsPerSecond),
          sum(load.signals),
          `${load.outcomes} (${load.probeOutcomes})`,
          sum(load.permitUpdates),
          load.permitsGranted,
          list(load.eventTypes),
        ]),
      );
    }
  }

  out.push('', 'Per process, summed over the breakers (state reads: one visibility list per second for all breakers by design, not counted):', '');
  out.push(...header(['phase', 'process', 'signals', 'signals/s', 'per breaker max /s (cap 5)', 'permit updates', 'visibility lists/s']));
  for (const phase of phases) {
    const names = Object.keys(phase.lines);
    const active = phase.breakers.filter((breaker) => breaker.events > 0);
    for (const name of names) {
      const signals = active.map((breaker) => breaker.signals[name] ?? 0);
      const permits = active.reduce((total, breaker) => total + (breaker.permitUpdates[name] ?? 0), 0);
      const total = signals.reduce((left, right) => left + right, 0);
      out.push(row([phase.phase, name, total, fixed(total / phase.seconds, 2), fixed(Math.max(0, ...signals) / phase.seconds, 2), permits, LISTS_PER_SECOND]));
    }
  }

  out.push('', 'Reads of the breakers by the bench itself (one visibility list a second, 2 s deadline, as each process reads them, but no client retries):');
  for (const phase of phases) {
    const { count, latencyMs, failures } = phase.reads;
    out.push(`  ${phase.phase}: ${count} lists, p50 ${fixed(latencyMs.p50, 0)} / p95 ${fixed(latencyMs.p95, 0)} / max ${fixed(latencyMs.max, 0)} ms; failed: ${list(failures)}`);
  }

  out.push('', "The breakers' workflow tasks: how long each waited for a worker (scheduled → started):", '');
  out.push(...header(['phase', 'breaker', 'queue', 'tasks', 'p50 ms', 'p95 ms', 'max ms', 'timed out']));
  for (const phase of phases) {
    for (const load of phase.breakers.filter((breaker) => breaker.events > 0)) {
      for (const [queue, wait] of Object.entries(load.workflowTaskWaitMs)) {
        out.push(row([phase.phase, load.workflowId, queue, wait.count, fixed(wait.p50, 0), fixed(wait.p95, 0), fixed(wait.max, 0), list(load.workflowTaskTimeouts)]));
      }
    }
  }

  const samples = Object.entries(context.lineSamples).flatMap(([name, patterns]) =>
    Object.entries(patterns).flatMap(([pattern, lines]) => (lines.length > 0 ? [`  ${name} "${pattern}": ${lines[0]}`] : [])),
  );
  if (samples.length > 0) out.push('', 'First line matched, per process and pattern:', ...samples);

  const outage = phases.find((phase) => phase.phase === 'outage and recovery');
  if (outage && outage.grants.length > 0) {
    out.push('', 'Probe permits granted during the recovery burst:');
    for (const grant of outage.grants) {
      const fate = grant.probed ? 'its probe reported' : `never probed${grant.askerGaveUp ? ` (${grant.process} had logged "not granted in time": the lease holds the slot until probeLeaseMs)` : ''}`;
      out.push(`  +${fixed(grant.at)} s  ${grant.breaker} ${grant.probeId} to ${grant.process}: ${fate}`);
    }
  }
  if (outage) {
    out.push('', 'Outage and recovery, seconds from the burst\'s start:');
    const events = [
      ...Object.entries(outage.marks).map(([what, at]) => ({ at, text: what })),
      ...outage.timeline.map((entry) => ({ at: entry.at, text: `${entry.breaker} ${entry.mode}${entry.reason ? ` (${entry.reason})` : ''}` })),
    ].sort((left, right) => left.at - right.at);
    for (const event of events) out.push(`  +${fixed(event.at)} s  ${event.text}`);
  }

  out.push('', ...estimate(phases));
  out.push(
    '',
    `Load average (1/5/15 min) before ${context.loadAverageBefore.join(' ')}, after ${context.loadAverageAfter.join(' ')}; everything (load generator, mock, dev server, API, workers) shares this machine's CPUs.`,
  );
  return out.join('\n');
}

/** What one breaker takes at 1,000 requests/s spread over N processes: bounded by processes, not requests. */
function estimate(phases: readonly BurstPhase[]): string[] {
  const healthy = phases.find((phase) => phase.phase === 'healthy')?.breakers.find((breaker) => breaker.workflowId === 'breaker-mock-openai');
  const signals = healthy ? sum(healthy.signals) : 0;
  const eventsPerSignal = healthy && signals > 0 ? healthy.events / signals : 4;
  const bytesPerOutcome = healthy && healthy.outcomes > 0 ? healthy.signalBytes / healthy.outcomes : NaN;
  // Every call's outcome reaches its breaker, whatever the batching: history bytes follow requests, not processes.
  const kilobytesPerSecond = (1_000 * bytesPerOutcome) / 1024;
  const lines = [
    `Estimate at 1,000 requests/s over N processes, per breaker (each process sends at most ${SIGNALS_PER_SECOND} signals/s and while half-open at most ${PERMITS_PER_SECOND} permit updates/s;`,
    `no read touches a breaker: each process lists all breakers' memos from visibility once a second, N lists/s for the namespace;`,
    `at 1,000 req/s every process has outcomes every 200 ms, so it sends all ${SIGNALS_PER_SECOND}; measured: ${fixed(eventsPerSignal, 2)} history events per signal, ${fixed(bytesPerOutcome, 0)} bytes per outcome,`,
    `so ~${fixed(kilobytesPerSecond, 0)} KiB/s of history at 1,000 req/s whatever N):`,
    '',
    ...header(['N processes', 'signals/s', 'visibility lists/s (all breakers)', 'permit updates/s (half-open only)', 'history events/s', 'continue-as-new every (2,000 events)']),
  ];
  for (const processes of [5, 10, 20, 50]) {
    const perSecond = processes * SIGNALS_PER_SECOND;
    const events = perSecond * eventsPerSignal;
    lines.push(row([processes, perSecond, processes * LISTS_PER_SECOND, `≤ ${processes * PERMITS_PER_SECOND}`, fixed(events, 0), `${fixed(HISTORY_EVENTS_LIMIT / events)} s`]));
  }
  return lines;
}
