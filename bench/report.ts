// Figures of one benchmark run, and the table printed from them.
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, resolve } from 'node:path';
import type { FirstTokenFigures } from './first-token';
import type { LatencySummary } from './load';

export interface PhaseFigures {
  sent: number;
  ok: number;
  errors: number;
  errorKinds: Record<string, number>;
  /** The phase stopped at its time limit (or Ctrl-C) before sending every request. */
  truncated: boolean;
  wallMs: number;
  latencyMs: LatencySummary;
  /** Successful requests per second of wall time. */
  throughputRps: number;
  /** CPU ms per sent request of this Node process (load generator + mock, + API and worker in gateway phases). */
  nodeCpuMsPerRequest: number;
  /** CPU ms per sent request of the Temporal dev server; null when /proc could not be read. */
  serverCpuMsPerRequest: number | null;
}

export interface LevelFigures {
  concurrency: number;
  direct: PhaseFigures;
  gateway: PhaseFigures & { answeredByOtherModel: number };
  /** Gateway minus direct, per percentile. */
  addedLatencyMs: { p50: number; p95: number; p99: number };
  /**
   * What the gateway itself costs per request: this process's CPU in the
   * gateway phase minus the direct phase (load generator and mock cost the
   * same in both), plus the Temporal server's CPU in the gateway phase.
   */
  gatewayCpuMsPerRequest: { apiAndWorker: number; temporalServer: number | null; total: number | null };
}

const ms = (value: number) => (Number.isFinite(value) ? value.toFixed(value < 10 ? 2 : 1) : '-');
const signed = (value: number) => (Number.isFinite(value) ? `${value >= 0 ? '+' : ''}${ms(value)}` : '-');
const rate = (value: number) => (Number.isFinite(value) ? value.toFixed(value < 100 ? 1 : 0) : '-');

function table(header: string[], rows: string[][]): string {
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => (row[column] ?? '').length)));
  const line = (cells: string[]) => cells.map((cell, column) => (column < 2 ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!))).join('  ');
  return [line(header), widths.map((width) => '-'.repeat(width)).join('  '), ...rows.map(line)].join('\n');
}

/** The human-readable report: one block of rows per concurrency level, then the errors if any. */
export function formatReport(levels: readonly LevelFigures[], notes: readonly string[]): string {
  const rows: string[][] = [];
  for (const level of levels) {
    const phaseRow = (name: string, phase: PhaseFigures) => [
      String(level.concurrency),
      name,
      `${phase.ok}/${phase.sent}${phase.truncated ? '*' : ''}`,
      String(phase.errors),
      ms(phase.latencyMs.p50),
      ms(phase.latencyMs.p95),
      ms(phase.latencyMs.p99),
      ms(phase.latencyMs.max),
      rate(phase.throughputRps),
      ms(phase.nodeCpuMsPerRequest),
      phase.serverCpuMsPerRequest === null ? '-' : ms(phase.serverCpuMsPerRequest),
    ];
    rows.push(phaseRow('direct', level.direct));
    rows.push(phaseRow('gateway', level.gateway));
    const cost = level.gatewayCpuMsPerRequest;
    rows.push([
      '',
      'added',
      '',
      '',
      signed(level.addedLatencyMs.p50),
      signed(level.addedLatencyMs.p95),
      signed(level.addedLatencyMs.p99),
      '',
      '',
      signed(cost.apiAndWorker),
      cost.temporalServer === null ? '-' : signed(cost.temporalServer),
    ]);
  }
  const header = ['conc', 'target', 'ok/sent', 'err', 'p50 ms', 'p95 ms', 'p99 ms', 'max ms', 'req/s', 'node CPU ms/req', 'server CPU ms/req'];
  const out = [table(header, rows), ''];
  out.push('Gateway CPU per request (API + worker in this process, net of load generator and mock; + Temporal server):');
  for (const level of levels) {
    const cost = level.gatewayCpuMsPerRequest;
    out.push(
      `  concurrency ${String(level.concurrency).padStart(2)}: ${ms(cost.apiAndWorker)} + ${cost.temporalServer === null ? '-' : ms(cost.temporalServer)} = ${cost.total === null ? '-' : ms(cost.total)} ms`,
    );
  }
  const failures = levels.flatMap((level) =>
    (['direct', 'gateway'] as const).flatMap((target) =>
      Object.entries(level[target].errorKinds).map(([kind, count]) => `  concurrency ${level.concurrency} ${target}: ${count} × ${kind}`),
    ),
  );
  const otherModel = levels.filter((level) => level.gateway.answeredByOtherModel > 0);
  if (failures.length > 0) out.push('', 'Errors:', ...failures);
  if (otherModel.length > 0) {
    out.push('', 'Answered by a fallback model (a failover under load, not an error):');
    for (const level of otherModel) out.push(`  concurrency ${level.concurrency}: ${level.gateway.answeredByOtherModel}`);
  }
  if (notes.length > 0) out.push('', ...notes);
  return out.join('\n');
}

/** Time to first streamed token, direct and through the gateway, and what the gateway adds. */
export function formatFirstToken(direct: FirstTokenFigures, gateway: FirstTokenFigures): string {
  const row = (name: string, figures: FirstTokenFigures) => [
    name,
    `${figures.ok}/${figures.sent}`,
    ms(figures.firstTokenMs.p50),
    ms(figures.firstTokenMs.p95),
    ms(figures.firstTokenMs.p99),
    ms(figures.totalMs.p50),
  ];
  const rows = [
    row('direct', direct),
    row('gateway', gateway),
    [
      'added',
      '',
      signed(gateway.firstTokenMs.p50 - direct.firstTokenMs.p50),
      signed(gateway.firstTokenMs.p95 - direct.firstTokenMs.p95),
      signed(gateway.firstTokenMs.p99 - direct.firstTokenMs.p99),
      signed(gateway.totalMs.p50 - direct.totalMs.p50),
    ],
  ];
  const out = [
    'Time to first streamed token (stream: true, one request at a time):',
    table(['target', 'ok/sent', 'first token p50 ms', 'p95 ms', 'p99 ms', 'whole stream p50 ms'], rows),
  ];
  const failures = [
    ...Object.entries(direct.errorKinds).map(([kind, count]) => `  direct: ${count} × ${kind}`),
    ...Object.entries(gateway.errorKinds).map(([kind, count]) => `  gateway: ${count} × ${kind}`),
  ];
  if (failures.length > 0) out.push('Errors:', ...failures);
  return out.join('\n');
}

/** Writes a benchmark's figures as JSON to `out` (relative to the project), with the time and the machine's CPU count. */
export function writeBenchResults(out: string, figures: Record<string, unknown>): void {
  const path = resolve(__dirname, '..', out);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, `${JSON.stringify({ at: new Date().toISOString(), cpus: os.cpus().length, ...figures }, null, 2)}\n`);
}
