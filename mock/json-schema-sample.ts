/** Deeper schemas get `{}`: the mock needs a plausible object, not a solver. */
const MAX_DEPTH = 8;

type JsonSchema = Record<string, unknown>;

function isSchema(value: unknown): value is JsonSchema {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * A minimal value that satisfies a JSON Schema well enough for a gateway's
 * structured-output checks: objects carry only their `required` properties,
 * strings are `"mock"`, numbers `1`, booleans `true`, arrays `[]` (or
 * `minItems` samples), `const` and the first `enum` value win, and the first
 * branch of `anyOf` / `oneOf` is taken. `$ref` is not resolved.
 */
export function jsonSchemaSample(schema: unknown, depth = 0): unknown {
  if (!isSchema(schema) || depth > MAX_DEPTH) return {};
  if ('const' in schema) return schema.const;
  if (Array.isArray(schema.enum) && schema.enum.length > 0) return schema.enum[0];
  const branches = schema.anyOf ?? schema.oneOf ?? schema.allOf;
  if (Array.isArray(branches) && branches.length > 0) return jsonSchemaSample(branches[0], depth + 1);

  // A type list such as ["string", "null"] is sampled as its first non-null type.
  const declared = Array.isArray(schema.type) ? schema.type.find((type) => type !== 'null') : schema.type;
  const type = declared ?? ('properties' in schema ? 'object' : undefined);
  switch (type) {
    case 'string':
      return 'mock';
    case 'number':
    case 'integer':
      return typeof schema.minimum === 'number' ? Math.max(1, schema.minimum) : 1;
    case 'boolean':
      return true;
    case 'null':
      return null;
    case 'array': {
      const count = typeof schema.minItems === 'number' ? Math.min(schema.minItems, 16) : 0;
      return Array.from({ length: count }, () => jsonSchemaSample(schema.items, depth + 1));
    }
    case 'object':
      return objectSample(schema, depth);
    default:
      return {};
  }
}

function objectSample(schema: JsonSchema, depth: number): Record<string, unknown> {
  const properties = isSchema(schema.properties) ? schema.properties : {};
  const required = Array.isArray(schema.required) ? schema.required : [];
  const sample: Record<string, unknown> = {};
  for (const name of required) {
    if (typeof name !== 'string') continue;
    // A required name without a declared schema still needs some value.
    const value = Object.hasOwn(properties, name) ? jsonSchemaSample(properties[name], depth + 1) : 'mock';
    // defineProperty, not assignment, so a property named "__proto__" stays a property.
    Object.defineProperty(sample, name, { value, enumerable: true, writable: true, configurable: true });
  }
  return sample;
}
