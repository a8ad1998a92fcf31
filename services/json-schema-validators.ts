import { createHash } from 'node:crypto';
import Ajv, { type CodeOptions, type ValidateFunction } from 'ajv';
import { RE2JS } from 're2js';
import { GatewayError } from '../common/failure-types';
import { jsonSchemaLimitProblem } from '../common/json-schema-limits';

type RegExpEngine = NonNullable<CodeOptions['regExp']>;

/**
 * The regex engine of every caller schema's `pattern`, `patternProperties`
 * and `propertyNames`: RE2, whose matching time is linear in the input. A
 * caller's pattern runs on model output in the worker's event loop, where a
 * backtracking engine given `^(a+)+$` and `'a'.repeat(40) + '!'` would freeze
 * the worker for every tenant. RE2 has no backreferences or lookaround; a
 * schema using them is refused as an invalid request.
 */
export const linearTimeRegExp: RegExpEngine = Object.assign(
  (pattern: string): RE2JS => {
    try {
      return RE2JS.compile(RE2JS.translateRegExp(pattern));
    } catch (error) {
      throw new Error(`pattern ${JSON.stringify(pattern)} is not supported by the linear-time regex engine (RE2: no backreferences or lookaround): ${(error as Error).message}`);
    }
  },
  { code: 'linearTimeRegExp' },
);

/**
 * How many compiled caller schemas a worker keeps. Each holds its own
 * generated code; a schema not used lately is compiled again (milliseconds).
 * @default 128
 */
export const MAX_CACHED_VALIDATORS = 128;

/**
 * Compiled caller schemas, least recently used evicted first. Every schema is
 * compiled on an Ajv instance of its own, dropped with its validator: no
 * registry is shared between tenants, so two tenants' schemas with the same
 * `$id` do not collide and nothing outlives the cache.
 *
 * The key is a hash of the whole schema, `$id` included: `$id` is the base
 * URI of the schema's own `$ref`s, so two schemas that differ only in it may
 * resolve differently.
 */
export class JsonSchemaValidators {
  private readonly validators = new Map<string, ValidateFunction>();
  // Checks schemas against the draft-07 meta-schema only; never compiles or keeps a caller's schema.
  private readonly metaSchemaChecker = new Ajv({ strict: false, code: { regExp: linearTimeRegExp } });

  constructor(readonly maxEntries: number = MAX_CACHED_VALIDATORS) {}

  /** Compiled schemas held now (at most `maxEntries`). */
  get size(): number {
    return this.validators.size;
  }

  /** The validator of `schema`, compiled on first use; an unusable schema is an `InvalidRequest`. */
  validatorFor(schema: Record<string, unknown>): ValidateFunction {
    const key = createHash('sha256').update(JSON.stringify(schema)).digest('hex');
    const cached = this.validators.get(key);
    if (cached) {
      // Map order is insertion order: re-inserting marks it most recently used.
      this.validators.delete(key);
      this.validators.set(key, cached);
      return cached;
    }
    const validate = this.compile(schema);
    this.validators.set(key, validate);
    for (const oldest of this.validators.keys()) {
      if (this.validators.size <= this.maxEntries) break;
      this.validators.delete(oldest);
    }
    return validate;
  }

  private compile(schema: Record<string, unknown>): ValidateFunction {
    // The API refuses these; a request from another path (the client library, a batch line) meets the same bound.
    const problem = jsonSchemaLimitProblem(schema);
    if (problem !== undefined) throw invalidSchema(problem);
    try {
      if (!this.metaSchemaChecker.validateSchema(schema)) throw new Error(this.metaSchemaChecker.errorsText());
      return new Ajv({ strict: false, allErrors: false, validateSchema: false, code: { regExp: linearTimeRegExp } }).compile(schema);
    } catch (error) {
      throw invalidSchema((error as Error).message);
    }
  }
}

/** Checks callers' schemas at the API edge; compiled ones are kept, as in a worker. */
const edgeValidators = new JsonSchemaValidators();

/**
 * Why the worker would refuse `schema` (not a JSON Schema, a `pattern` RE2
 * cannot run, past the limits), or undefined: the API refuses it before
 * anything starts, with the reason the worker would give.
 */
export function callerJsonSchemaProblem(schema: Record<string, unknown>): string | undefined {
  try {
    edgeValidators.validatorFor(schema);
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}

function invalidSchema(reason: string): GatewayError {
  return new GatewayError('InvalidRequest', `response_format json_schema is not a valid JSON Schema: ${reason}`);
}
