// Runs in the workflow sandbox: deterministic, no I/O.
import { z } from 'zod';

/**
 * Bounds on a caller's JSON Schema (`response_format.json_schema.schema`):
 * the worker compiles it to code and runs it on model output, so its size
 * bounds compile time and the memory a cached validator holds, and its depth
 * bounds the compiler's recursion. Real structured-output schemas are a few
 * KiB and well under 20 levels (OpenAI allows 10 levels of object nesting).
 */
export const JSON_SCHEMA_LIMITS = {
  /** Characters of the schema as JSON. */
  maxChars: 65_536,
  /** Levels of nested objects and arrays, the schema itself being level 1. */
  maxDepth: 64,
} as const;

/** Why a caller's JSON Schema is over the limits, or undefined when it is within them. */
export function jsonSchemaLimitProblem(schema: unknown): string | undefined {
  // Depth first: measuring the size of a very deep document would itself recurse that deep.
  if (nestsDeeperThan(schema, JSON_SCHEMA_LIMITS.maxDepth)) {
    return `the schema nests objects and arrays deeper than ${JSON_SCHEMA_LIMITS.maxDepth} levels`;
  }
  const chars = JSON.stringify(schema)?.length ?? 0;
  if (chars > JSON_SCHEMA_LIMITS.maxChars) {
    return `the schema is ${chars} characters of JSON, more than the ${JSON_SCHEMA_LIMITS.maxChars} allowed`;
  }
  return undefined;
}

/** A caller's JSON Schema document: an object within `JSON_SCHEMA_LIMITS`. */
export const JsonSchemaDocumentSchema = z.record(z.string(), z.unknown()).superRefine((schema, context) => {
  const problem = jsonSchemaLimitProblem(schema);
  if (problem !== undefined) context.addIssue({ code: 'custom', message: problem });
});

/** Stops as soon as the limit is passed, so the recursion is never deeper than `levels` + 1. */
function nestsDeeperThan(value: unknown, levels: number): boolean {
  if (value === null || typeof value !== 'object') return false;
  if (levels === 0) return true;
  const children: unknown[] = Array.isArray(value) ? value : Object.values(value);
  return children.some((child) => nestsDeeperThan(child, levels - 1));
}
