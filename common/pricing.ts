// Runs in the workflow sandbox: deterministic, no I/O.
import type { Usage } from './response-schema';

/** USD per million tokens, as configured per model. */
export interface Pricing {
  inputPerMillionUsd: number;
  outputPerMillionUsd: number;
}


/** Rounded to a nano-dollar, so sums of many small costs do not drift in binary floating point. */
export function roundUsd(usd: number): number {
  return Math.round(usd * 1e9) / 1e9;
}

/** What `usage` costs at `pricing`; 0 for a model without prices (reported as unpriced elsewhere). */
export function costOfUsage(usage: Usage, pricing: Pricing | undefined): number {
  if (pricing === undefined) return 0;
  return roundUsd((usage.inputTokens * pricing.inputPerMillionUsd + usage.outputTokens * pricing.outputPerMillionUsd) / 1e6);
}

export function addUsage(a: Usage, b: Usage): Usage {
  return { inputTokens: a.inputTokens + b.inputTokens, outputTokens: a.outputTokens + b.outputTokens };
}

export const NO_USAGE: Usage = Object.freeze({ inputTokens: 0, outputTokens: 0 });

/** A usage record read back from a heartbeat or failure details, or undefined when it is not one. */
export function usageOf(value: unknown): Usage | undefined {
  const usage = value as Partial<Usage> | undefined;
  return typeof usage?.inputTokens === 'number' && typeof usage.outputTokens === 'number'
    ? { inputTokens: usage.inputTokens, outputTokens: usage.outputTokens }
    : undefined;
}

/**
 * A USD amount as a plain decimal (no exponent, no trailing zeros) to
 * `decimals` places: the nano-dollar by default, as costs are rounded
 * (`0.0000425`, `0.01`, `2`, `0`).
 */
export function formatUsd(usd: number, decimals = 9): string {
  return usd.toFixed(decimals).replace(/\.?0+$/, '') || '0';
}
