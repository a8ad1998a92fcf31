import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RE2JS } from 're2js';
import { JsonSchemaValidators, linearTimeRegExp } from '../../services/json-schema-validators';
import { outputSchemaValidators, validateOutput } from '../../activities/validate-output';
import { toApplicationFailure } from '../../activities/to-application-failure';
import { GatewayError } from '../../common/failure-types';
import type { OutputFormat } from '../../common/request-schema';
import type { ModelOutput } from '../../common/response-schema';

function output(text: string): ModelOutput {
  return { text, toolCalls: [], finishReason: { unified: 'stop', raw: 'stop' }, refusal: null, usage: { inputTokens: 1, outputTokens: 1 }, warnings: [] };
}

function jsonSchema(schema: Record<string, unknown>, name = 'answer'): OutputFormat {
  return { type: 'json_schema', name, schema };
}

/** The GatewayError `run` throws (failing the test when it throws none). */
function thrown(run: () => void): GatewayError {
  try {
    run();
  } catch (error) {
    assert.ok(error instanceof GatewayError, `expected a GatewayError, got ${String(error)}`);
    return error;
  }
  assert.fail('expected a GatewayError');
}

const cityById = jsonSchema({ $id: 'urn:example:shared', type: 'object', properties: { city: { type: 'string' } }, required: ['city'], additionalProperties: false });
const countById = jsonSchema({ $id: 'urn:example:shared', type: 'object', properties: { count: { type: 'integer' } }, required: ['count'], additionalProperties: false });

test('two schemas with the same $id and different content each validate against their own content', () => {
  validateOutput(output('{"city":"Oslo"}'), cityById, 'p');
  validateOutput(output('{"count":3}'), countById, 'p');
  assert.equal(thrown(() => validateOutput(output('{"city":"Oslo"}'), countById, 'p')).type, 'InvalidOutput');
  assert.equal(thrown(() => validateOutput(output('{"count":3}'), cityById, 'p')).type, 'InvalidOutput');
  // Again, from the cache: still each its own.
  validateOutput(output('{"city":"Bergen"}'), cityById, 'p');
  assert.equal(thrown(() => validateOutput(output('{"city":"Bergen"}'), countById, 'p')).type, 'InvalidOutput');
});

test('a schema whose $refs lean on its own $id still resolves them', () => {
  const format = jsonSchema({
    $id: 'urn:example:refs',
    definitions: { name: { type: 'string', minLength: 1 } },
    type: 'object',
    properties: { name: { $ref: 'urn:example:refs#/definitions/name' } },
    required: ['name'],
  });
  validateOutput(output('{"name":"Ada"}'), format, 'p');
  assert.equal(thrown(() => validateOutput(output('{"name":""}'), format, 'p')).type, 'InvalidOutput');
});

test('the compiled-schema cache stays bounded after many distinct schemas, evicting the least recently used', () => {
  const validators = new JsonSchemaValidators(8);
  const schemaNumbered = (n: number) => ({ $id: `urn:example:${n}`, type: 'object', properties: { [`field${n}`]: { const: n } } });
  const first = validators.validatorFor(schemaNumbered(0));
  for (let n = 1; n < 200; n += 1) {
    validators.validatorFor(schemaNumbered(n));
    if (n % 3 === 0) assert.equal(validators.validatorFor(schemaNumbered(0)), first, 'a schema in use stays cached');
  }
  assert.equal(validators.size, 8);
  assert.equal(validators.validatorFor(schemaNumbered(0)), first);
  assert.notEqual(validators.validatorFor(schemaNumbered(1)), validators.validatorFor(schemaNumbered(0)));
  assert.equal(validators.size, 8);
});

test("the worker's own cache of caller schemas is bounded too", () => {
  for (let n = 0; n < outputSchemaValidators.maxEntries + 50; n += 1) {
    validateOutput(output(`{"n":${n}}`), jsonSchema({ type: 'object', properties: { n: { const: n } } }), 'p');
  }
  assert.equal(outputSchemaValidators.size, outputSchemaValidators.maxEntries);
});

test('patterns run on the linear-time engine, which refuses backreferences and lookaround', () => {
  assert.ok(linearTimeRegExp('^(a+)+$', 'u') instanceof RE2JS);
  // A backtracking engine (RegExp) accepts both; RE2 cannot express them, so a schema using them is a bad request.
  for (const schema of [{ type: 'string', pattern: '^(a)\\1$' }, { type: 'object', patternProperties: { '^(?=x)': { type: 'number' } } }]) {
    const error = thrown(() => validateOutput(output('"aa"'), jsonSchema(schema), 'p'));
    assert.equal(error.type, 'InvalidRequest');
    assert.match(error.message, /linear-time regex engine/);
  }
});

test('a catastrophic pattern on a hostile output completes, in pattern and in patternProperties', () => {
  const hostile = `${'a'.repeat(40)}!`;
  const pattern = jsonSchema({ type: 'object', properties: { word: { type: 'string', pattern: '^(a+)+$' } } });
  const keys = jsonSchema({ type: 'object', patternProperties: { '^(a+)+$': { type: 'number' } }, additionalProperties: false });
  // The engine is checked first: with a backtracking one the lines below would never return (2^40 steps).
  assert.ok(linearTimeRegExp('^(a+)+$', 'u') instanceof RE2JS);
  assert.equal(thrown(() => validateOutput(output('"aa"'), jsonSchema({ type: 'string', pattern: '(a)\\1' }), 'p')).type, 'InvalidRequest');
  assert.equal(thrown(() => validateOutput(output(JSON.stringify({ word: hostile })), pattern, 'p')).type, 'InvalidOutput');
  validateOutput(output(JSON.stringify({ word: 'aaaa' })), pattern, 'p');
  assert.equal(thrown(() => validateOutput(output(JSON.stringify({ [hostile]: 1 })), keys, 'p')).type, 'InvalidOutput');
  validateOutput(output(JSON.stringify({ aaaa: 1 })), keys, 'p');
});

test('ECMAScript pattern syntax callers use keeps working: classes, Unicode properties, named groups, escaped slashes', () => {
  const format = jsonSchema({
    type: 'object',
    properties: {
      code: { type: 'string', pattern: '^[A-Z]{2}-\\d{3}$' },
      word: { type: 'string', pattern: '^\\p{L}+$' },
      date: { type: 'string', pattern: '^(?<year>\\d{4})-\\d{2}$' },
      path: { type: 'string', pattern: '^/api\\/v1$' },
    },
  });
  validateOutput(output(JSON.stringify({ code: 'NO-123', word: 'Ålesund', date: '2025-01', path: '/api/v1' })), format, 'p');
  assert.equal(thrown(() => validateOutput(output(JSON.stringify({ code: 'no-123' })), format, 'p')).type, 'InvalidOutput');
});

test('an invalid output fails with a message free of the output text; the excerpt travels in the details', () => {
  const canary = 'output-canary-5d1f';
  const cases: [ModelOutput, OutputFormat][] = [
    [output(`not json ${canary}`), { type: 'json_object' }],
    [output(`["${canary}"]`), { type: 'json_object' }],
    [output(JSON.stringify({ [canary]: 1 })), jsonSchema({ type: 'object', additionalProperties: { type: 'string' } })],
  ];
  for (const [modelOutput, format] of cases) {
    const error = thrown(() => validateOutput(modelOutput, format, 'p'));
    assert.equal(error.type, 'InvalidOutput');
    assert.ok(!error.message.includes(canary), error.message);
    const failure = toApplicationFailure(error, 0, 1);
    assert.ok(!failure.message.includes(canary), failure.message);
    assert.match((failure.details?.[0] as { excerpt?: string }).excerpt ?? '', new RegExp(canary));
  }
});

test('a schema that is not a JSON Schema is an invalid request', () => {
  assert.equal(thrown(() => validateOutput(output('{}'), jsonSchema({ type: 12 }), 'p')).type, 'InvalidRequest');
});
