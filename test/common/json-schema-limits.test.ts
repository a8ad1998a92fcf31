import assert from 'node:assert/strict';
import { test } from 'node:test';
import { JSON_SCHEMA_LIMITS, jsonSchemaLimitProblem } from '../../common/json-schema-limits';

function nested(levels: number): Record<string, unknown> {
  let schema: Record<string, unknown> = { type: 'string' };
  for (let level = 1; level < levels; level += 1) schema = { items: schema };
  return schema;
}

test('a schema at the depth limit passes and one level more is refused', () => {
  assert.equal(jsonSchemaLimitProblem(nested(JSON_SCHEMA_LIMITS.maxDepth)), undefined);
  assert.match(jsonSchemaLimitProblem(nested(JSON_SCHEMA_LIMITS.maxDepth + 1)) ?? '', /deeper than 64 levels/);
});

test('a schema nested far deeper than the stack allows is refused without overflowing it', () => {
  assert.match(jsonSchemaLimitProblem(nested(200_000)) ?? '', /deeper than/);
});

test('a schema over the size limit is refused', () => {
  const big = { enum: ['x'.repeat(JSON_SCHEMA_LIMITS.maxChars)] };
  assert.match(jsonSchemaLimitProblem(big) ?? '', /more than the 65536 allowed/);
  assert.equal(jsonSchemaLimitProblem({ enum: ['x'.repeat(1_000)] }), undefined);
});
