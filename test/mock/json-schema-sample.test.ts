import assert from 'node:assert/strict';
import { test } from 'node:test';
import { jsonSchemaSample } from '../../mock/json-schema-sample';

const cases: Array<{ name: string; schema: unknown; expected: unknown }> = [
  { name: 'a string', schema: { type: 'string' }, expected: 'mock' },
  { name: 'a number', schema: { type: 'number' }, expected: 1 },
  { name: 'an integer with a minimum', schema: { type: 'integer', minimum: 5 }, expected: 5 },
  { name: 'a boolean', schema: { type: 'boolean' }, expected: true },
  { name: 'an array', schema: { type: 'array', items: { type: 'string' } }, expected: [] },
  {
    name: 'an array with minItems',
    schema: { type: 'array', minItems: 2, items: { type: 'integer' } },
    expected: [1, 1],
  },
  { name: 'a nullable string', schema: { type: ['null', 'string'] }, expected: 'mock' },
  { name: 'an enum', schema: { type: 'string', enum: ['red', 'green'] }, expected: 'red' },
  { name: 'a const', schema: { const: 'fixed' }, expected: 'fixed' },
  { name: 'an anyOf', schema: { anyOf: [{ type: 'number' }, { type: 'string' }] }, expected: 1 },
  { name: 'a $ref', schema: { $ref: '#/$defs/thing' }, expected: {} },
  { name: 'not a schema', schema: 'nonsense', expected: {} },
  {
    name: 'an object with only its required properties',
    schema: {
      type: 'object',
      properties: { a: { type: 'string' }, b: { type: 'object', properties: {} }, optional: { type: 'string' } },
      required: ['a', 'b', 'undeclared'],
    },
    expected: { a: 'mock', b: {}, undeclared: 'mock' },
  },
];

for (const { name, schema, expected } of cases) {
  test(`the sample of ${name} is ${JSON.stringify(expected)}`, () => {
    assert.deepEqual(jsonSchemaSample(schema), expected);
  });
}

test('a required property named __proto__ stays a plain property', () => {
  const sample = jsonSchemaSample({ type: 'object', required: ['__proto__'] });
  assert.equal(JSON.stringify(sample), '{"__proto__":"mock"}');
});

test('a self-nesting schema stops at a fixed depth', () => {
  const node: Record<string, unknown> = { type: 'object', required: ['child'] };
  node.properties = { child: node };
  assert.doesNotThrow(() => JSON.stringify(jsonSchemaSample(node)));
});
