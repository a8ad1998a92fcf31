import Ajv from 'ajv';
import type { ValidateFunction } from 'ajv';
import { GatewayError } from '../common/failure-types';
import type { OutputFormat } from '../common/request-schema';
import type { ModelOutput } from '../common/response-schema';

const ajv = new Ajv({ allErrors: false, strict: false });
const compiledSchemas = new Map<string, ValidateFunction>();

/**
 * Checks a model's output against the requested output contract. An invalid
 * output is that model's failure (`InvalidOutput`), and the chain goes on.
 */
export function validateOutput(output: ModelOutput, format: OutputFormat | undefined, provider: string): void {
  if (!format || format.type === 'text') return;
  if (output.toolCalls.length > 0 || output.refusal !== null) return;
  const text = output.text ?? '';
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new GatewayError('InvalidOutput', `output is not valid JSON: ${text.slice(0, 120)}`, { provider });
  }
  if (format.type === 'json_object') {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw new GatewayError('InvalidOutput', 'output is JSON but not an object', { provider });
    }
    return;
  }
  const validate = compile(format.schema);
  if (!validate(value)) {
    const first = validate.errors?.[0];
    throw new GatewayError(
      'InvalidOutput',
      `output does not match schema "${format.name}": ${first ? `${first.instancePath || '/'} ${first.message ?? ''}` : 'invalid'}`,
      { provider },
    );
  }
}

function compile(schema: Record<string, unknown>): ValidateFunction {
  const key = JSON.stringify(schema);
  let validate = compiledSchemas.get(key);
  if (!validate) {
    try {
      validate = ajv.compile(schema);
    } catch (error) {
      throw new GatewayError('InvalidRequest', `response_format json_schema is not a valid JSON Schema: ${(error as Error).message}`);
    }
    if (compiledSchemas.size > 500) compiledSchemas.clear();
    compiledSchemas.set(key, validate);
  }
  return validate;
}
