import { GatewayError } from '../common/failure-types';
import type { OutputFormat } from '../common/request-schema';
import type { ModelOutput } from '../common/response-schema';
import { JsonSchemaValidators } from '../services/json-schema-validators';

/** Characters of the output a failure's details keep, for whoever debugs it (encrypted with history). */
export const OUTPUT_EXCERPT_CHARS = 120;

/** The compiled caller schemas of this worker (bounded; see `JsonSchemaValidators`). */
export const outputSchemaValidators = new JsonSchemaValidators();

/**
 * Checks a model's output against the requested output contract. An invalid
 * output is that model's failure (`InvalidOutput`), and the chain goes on.
 * The failure's message names what is wrong but holds no output text (the
 * message may be stored in plain text); an excerpt travels in its details.
 */
export function validateOutput(output: ModelOutput, format: OutputFormat | undefined, provider: string): void {
  if (!format || format.type === 'text') return;
  if (output.toolCalls.length > 0 || output.refusal !== null) return;
  const text = output.text ?? '';
  const excerpt = text.slice(0, OUTPUT_EXCERPT_CHARS);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new GatewayError('InvalidOutput', 'output is not valid JSON', { provider, excerpt });
  }
  if (format.type === 'json_object') {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw new GatewayError('InvalidOutput', 'output is JSON but not an object', { provider, excerpt });
    }
    return;
  }
  const validate = outputSchemaValidators.validatorFor(format.schema);
  if (!validate(value)) {
    const first = validate.errors?.[0];
    // The instance path is made of the output's own keys: it goes with the excerpt.
    throw new GatewayError('InvalidOutput', `output does not match schema "${format.name}": ${first?.message ?? 'invalid'}`, {
      provider,
      excerpt: `at ${first?.instancePath || '/'}: ${excerpt}`,
    });
  }
}
