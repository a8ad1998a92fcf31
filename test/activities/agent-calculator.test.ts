import assert from 'node:assert/strict';
import { test } from 'node:test';
import { calculate } from '../../activities/agent/agent-tools';

test('the calculator tool does arithmetic with precedence, parentheses, decimals and unary minus', () => {
  assert.equal(calculate('17 * 23'), '391');
  assert.equal(calculate('2 + 3 * 4'), '14');
  assert.equal(calculate('(2 + 3) * 4'), '20');
  assert.equal(calculate('-1.5 + 10 % 4'), '0.5');
  assert.equal(calculate('7 / 2'), '3.5');
});

test('anything but arithmetic is refused as text the model can read, never evaluated', () => {
  assert.match(calculate('process.exit(1)'), /^error: not an arithmetic expression/);
  assert.match(calculate('2 +'), /^error: unexpected end/);
  assert.match(calculate('(1 + 2'), /^error: missing \)/);
  assert.match(calculate('1 / 0'), /^error: the result is not a finite number/);
  assert.match(calculate(''), /^error: not an arithmetic expression/);
});
