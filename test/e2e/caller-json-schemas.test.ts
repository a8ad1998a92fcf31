// Callers' JSON Schemas through the real HTTP path: each request is validated
// against its own schema whatever `$id` another tenant used, and a schema too
// large or too deep is refused at the edge before any workflow starts.
import assert from 'node:assert/strict';
import { after, afterEach, before, test } from 'node:test';
import { JSON_SCHEMA_LIMITS } from '../../common/json-schema-limits';
import { OTHER_TENANT_KEY, TENANT_KEY, startHarness, type Harness } from '../support/gateway-harness';

let harness: Harness;

before(async () => {
  harness = await startHarness();
});

after(async () => {
  await harness?.stop();
});

afterEach(async () => {
  await harness.clearFaults();
  await harness.resetCalls();
});

const SHARED_ID = 'https://example.com/schemas/answer.json';
const citySchema = { $id: SHARED_ID, type: 'object', properties: { city: { type: 'string' } }, required: ['city'], additionalProperties: false };
const countSchema = { $id: SHARED_ID, type: 'object', properties: { count: { type: 'integer' } }, required: ['count'], additionalProperties: false };

async function complete(tenantKey: string, content: string, schema: Record<string, unknown>): Promise<Response> {
  return fetch(`${harness.apiUrl}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${tenantKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      model: 'model-a',
      messages: [{ role: 'user', content }],
      response_format: { type: 'json_schema', json_schema: { name: 'answer', schema } },
    }),
  });
}

async function answer(response: Response): Promise<{ model: string | null; value: unknown }> {
  const body = (await response.json()) as { choices: { message: { content: string } }[] };
  return { model: response.headers.get('x-gateway-model'), value: JSON.parse(body.choices[0]?.message.content ?? '') };
}

async function requestWorkflows(): Promise<number> {
  let count = 0;
  for await (const _execution of harness.client.workflow.list({ query: `WorkflowType = 'llmRequestWorkflow'` })) count += 1;
  return count;
}

// First in the file, so "no workflow" means none at all.
test('a schema nested deeper than the limit is a 400 naming the field, and nothing starts', async () => {
  let schema: Record<string, unknown> = { type: 'string' };
  for (let level = 1; level <= JSON_SCHEMA_LIMITS.maxDepth; level += 1) schema = { type: 'array', items: schema };
  const response = await complete(TENANT_KEY, 'too deep', schema);
  assert.equal(response.status, 400);
  const { error } = (await response.json()) as { error: { type: string; param: string; code: string; message: string } };
  assert.equal(error.type, 'invalid_request_error');
  assert.equal(error.param, 'response_format.json_schema.schema');
  assert.equal(error.code, 'invalid_value');
  assert.match(error.message, /deeper than 64 levels/);
  assert.equal(response.headers.get('x-gateway-workflow-id'), null);
  assert.deepEqual(await harness.calls(), {});
  assert.equal(await requestWorkflows(), 0);
});

test('a schema larger than the limit is a 400 naming the field, and nothing starts', async () => {
  const schema = { type: 'string', enum: ['x'.repeat(JSON_SCHEMA_LIMITS.maxChars)] };
  const response = await complete(TENANT_KEY, 'too large', schema);
  assert.equal(response.status, 400);
  const { error } = (await response.json()) as { error: { type: string; param: string; message: string } };
  assert.equal(error.type, 'invalid_request_error');
  assert.equal(error.param, 'response_format.json_schema.schema');
  assert.match(error.message, /more than the 65536 allowed/);
  assert.equal(response.headers.get('x-gateway-workflow-id'), null);
  assert.deepEqual(await harness.calls(), {});
  assert.equal(await requestWorkflows(), 0);
});

test('a schema the worker cannot run (a pattern RE2 refuses, or no JSON Schema at all) is a 400 at the edge, and nothing starts', async () => {
  const schemas: [Record<string, unknown>, RegExp][] = [
    [{ type: 'string', pattern: '^(a)\\1$' }, /linear-time regex engine/],
    [{ type: 'object', properties: { code: { type: 'string', pattern: '^(?=x)' } } }, /linear-time regex engine/],
    [{ type: 'nonsense' }, /not a valid JSON Schema/],
  ];
  for (const [schema, reason] of schemas) {
    const response = await complete(TENANT_KEY, 'unrunnable schema', schema);
    assert.equal(response.status, 400, JSON.stringify(schema));
    const { error } = (await response.json()) as { error: { type: string; param: string; message: string } };
    assert.equal(error.type, 'invalid_request_error');
    assert.equal(error.param, 'response_format.json_schema.schema');
    assert.match(error.message, reason);
    assert.equal(response.headers.get('x-gateway-workflow-id'), null);
  }
  assert.deepEqual(await harness.calls(), {});
  assert.equal(await requestWorkflows(), 0);
});

test("a second tenant's schema with the same $id is answered 200 and validated against its own content", async () => {
  const alpha = await complete(TENANT_KEY, 'Where? (alpha)', citySchema);
  assert.equal(alpha.status, 200);
  assert.equal(typeof ((await answer(alpha)).value as { city: unknown }).city, 'string');

  const beta = await complete(OTHER_TENANT_KEY, 'How many? (beta)', countSchema);
  assert.equal(beta.status, 200);
  const betaAnswer = await answer(beta);
  assert.equal(betaAnswer.model, 'model-a');
  assert.equal(typeof (betaAnswer.value as { count: unknown }).count, 'number');

  // model-a answers what alpha's schema wants: refused under beta's, and the next model answers.
  await harness.setFault('model-a', { reply: '{"city":"Oslo"}', times: 1 });
  const refused = await complete(OTHER_TENANT_KEY, 'How many? (beta, second)', countSchema);
  assert.equal(refused.status, 200);
  const refusedAnswer = await answer(refused);
  assert.notEqual(refusedAnswer.model, 'model-a');
  assert.equal(typeof (refusedAnswer.value as { count: unknown }).count, 'number');
  assert.ok(Number(refused.headers.get('x-gateway-fallbacks')) >= 1);

  // And what beta's schema wants from model-a is taken as it is.
  await harness.setFault('model-a', { reply: '{"count":7}', times: 1 });
  const taken = await complete(OTHER_TENANT_KEY, 'How many? (beta, third)', countSchema);
  assert.equal(taken.status, 200);
  assert.deepEqual(await answer(taken), { model: 'model-a', value: { count: 7 } });
});
