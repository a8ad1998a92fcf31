import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { assessRequest } from '../../../services/prompt/assess-request';
import { assessPrompt, closePromptPool, INLINE_PROMPT_CHARS } from '../../../services/prompt/assess-prompt';

after(closePromptPool);

const tenants = { alpha: { keySha256: ['0'.repeat(64)], defaults: { taskClass: 'summarize' } } };
const line = 'Write to ops@example.com about ticket 4111 1111 1111 1111 before Friday. ';

function request(chars: number) {
  return { tenantId: 'alpha', messages: [{ role: 'user' as const, content: line.repeat(Math.ceil(chars / line.length)).slice(0, chars) }], tags: {} };
}

test('a short prompt is assessed on the event loop, as before', async () => {
  const small = request(1_000);
  const assessed = await assessPrompt(small, { tenants });
  assert.equal(assessed.offloaded, false);
  const { offloaded: _offloaded, ...assessment } = assessed;
  assert.deepEqual(assessment, assessRequest(small, { tenants }));
});

test('a large prompt is assessed in a worker thread, with the same result, while the event loop keeps turning', async () => {
  const large = request(2 * 1024 * 1024 - 4_096);
  assert.ok(large.messages[0]!.content.length >= INLINE_PROMPT_CHARS);
  let turns = 0;
  let turning = true;
  const turn = (): void => {
    turns += 1;
    if (turning) setImmediate(turn);
  };
  setImmediate(turn);
  const assessed = await assessPrompt(large, { tenants });
  turning = false;
  assert.equal(assessed.offloaded, true);
  // Synchronous work on this thread would have let no turn through until it was done.
  assert.ok(turns > 1, `the event loop turned while the prompt was assessed (${turns} turns)`);
  const { offloaded: _offloaded, ...assessment } = assessed;
  assert.deepEqual(assessment, assessRequest(large, { tenants }));
  assert.equal(assessment.tags.taskClass, 'summarize', "the tenant's defaults are filled in");
  assert.ok((assessment.findings.email ?? 0) > 0, 'personal data was found');
});
