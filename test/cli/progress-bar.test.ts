import assert from 'node:assert/strict';
import { test } from 'node:test';
import { progressBar } from '../../cli/progress-bar';

/** A non-terminal stream that keeps what was written. */
function log(): NodeJS.WriteStream & { text: string } {
  const stream = { isTTY: false, text: '', write: (chunk: string) => ((stream.text += chunk), true) };
  return stream as unknown as NodeJS.WriteStream & { text: string };
}

test('off a terminal, a line is written per tenth of the way', () => {
  const stream = log();
  const bar = progressBar(stream);
  for (let done = 0; done <= 20; done++) bar.update(done, 20, `running: ${done}/20`);
  bar.finish();
  assert.equal(stream.text.trim().split('\n').length, 11);
});

test('the final state is written even when it reached no new tenth: all items done, then the job ended', () => {
  const stream = log();
  const bar = progressBar(stream);
  bar.update(12, 12, 'in_progress: 12/12 (0 failed)');
  bar.update(12, 12, 'completed: 12/12 (0 failed)');
  bar.finish();
  assert.deepEqual(stream.text.trim().split('\n'), ['in_progress: 12/12 (0 failed)', 'completed: 12/12 (0 failed)']);
});
