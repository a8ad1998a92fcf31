// The breaker board batches call outcomes into signals: a closed breaker's
// successes wait (they change nothing it decides), a failure or a probe sends
// everything pending, in order, and stopping sends what is left.
import assert from 'node:assert/strict';
import { afterEach, beforeEach, mock, test } from 'node:test';
import type { Client } from '@temporalio/client';
import { BreakerBoard } from '../../services/breaker-board';
import type { BreakerOutcome } from '../../workflows/breaker/breaker-state';
import type { BreakerView } from '../../workflows/breaker/provider-breaker-workflow';

let sent: { workflowId: string; outcomes: BreakerOutcome[] }[];
let board: BreakerBoard;

const client = {
  workflow: {
    signalWithStart: async (_workflow: unknown, options: { workflowId: string; signalArgs: [{ outcomes: BreakerOutcome[] }] }) => {
      sent.push({ workflowId: options.workflowId, outcomes: options.signalArgs[0].outcomes });
    },
  },
} as unknown as Client;

function view(key: string, mode: BreakerView['mode']): BreakerView {
  return { key, mode, automaticMode: mode, forced: null, reason: null, openUntil: null } as BreakerView;
}

const ok = (model: string): BreakerOutcome => ({ model, ok: true, latencyMs: 10 });
const failed = (model: string): BreakerOutcome => ({ model, ok: false, failureType: 'ProviderUnavailable' });

beforeEach(() => {
  mock.timers.enable({ apis: ['Date'], now: 1_000_000 });
  sent = [];
  board = new BreakerBoard({ client, taskQueue: 'q', providers: () => ({ p: {} as never, q: {} as never }) });
  board.remember(view('p', 'closed'));
});

afterEach(() => mock.timers.reset());

test("a closed breaker's successes wait, and go once the quiet interval has passed", async () => {
  board.report('p', ok('m'));
  board.report('p', ok('m'));
  await board.flush();
  assert.equal(sent.length, 0, 'nothing sent for successes alone');
  mock.timers.tick(5_000);
  await board.flush();
  assert.equal(sent.length, 1);
  assert.deepEqual(sent[0]?.outcomes, [ok('m'), ok('m')]);
});

test('a failure sends everything pending at once, in order', async () => {
  board.report('p', ok('m'));
  board.report('p', failed('m'));
  await board.flush();
  assert.deepEqual(sent[0]?.outcomes, [ok('m'), failed('m')]);
});

test("a probe's outcome, and any outcome for a breaker not seen closed, go at once", async () => {
  board.report('p', { ...ok('m'), probeId: 'probe-1' });
  board.report('q', ok('m'));
  await board.flush();
  assert.deepEqual(
    sent.map((batch) => batch.outcomes.length),
    [1, 1],
  );
});

test('stopping sends whatever is pending', async () => {
  board.report('p', ok('m'));
  await board.stop();
  assert.equal(sent.length, 1);
});
