// The breaker board batches call outcomes into signals: a closed breaker's
// successes wait (they change nothing it decides), a failure or a probe sends
// everything pending, in order, and stopping sends what is left. A process
// that sees a breaker's threshold of failures in a row opens it here at once.
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, mock, test } from 'node:test';
import type { Client } from '@temporalio/client';
import { BreakerBoard } from '../../services/breaker-board';
import type { BreakerOutcome } from '../../workflows/breaker/breaker-state';
import { BREAKER_MEMO_KEY, type BreakerView } from '../../workflows/breaker/provider-breaker-workflow';

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

describe("this process's own failures in a row", () => {
  /** What the breakers' memos say (visibility), as the board's refresh reads it. */
  let published: Map<string, BreakerView>;
  let local: BreakerBoard;

  beforeEach(() => {
    published = new Map();
    const reading = {
      withDeadline: (_deadline: number, fn: () => Promise<unknown>) => fn(),
      workflow: {
        signalWithStart: async () => undefined,
        async *list() {
          for (const [key, published_] of published) yield { workflowId: `breaker-${key}`, memo: { [BREAKER_MEMO_KEY]: published_ } };
        },
      },
    } as unknown as Client;
    local = new BreakerBoard({ client: reading, taskQueue: 'q', providers: () => ({ p: { consecutiveFailures: 3 } as never }) });
    published.set('p', view('p', 'closed'));
  });

  test('open the breaker here at once, before the shared breaker is read open, and a closed read does not close it until the hold ends', async () => {
    await local.refresh();
    local.report('p', failed('m'));
    local.report('p', failed('m'));
    assert.deepEqual(await local.admit('p'), { admitted: true }, 'two failures: below the threshold');
    local.report('p', failed('m'));
    const refused = await local.admit('p');
    assert.equal(refused.admitted, false);
    assert.match(refused.admitted ? '' : refused.reason, /3 consecutive failures seen by this process/);
    await local.refresh();
    assert.equal((await local.admit('p')).admitted, false, 'the breaker still reads closed: held open here');
    mock.timers.tick(2_000);
    await local.refresh();
    assert.deepEqual(await local.admit('p'), { admitted: true }, 'the hold is over and the shared breaker stayed closed');
  });

  test('a success resets the run, and a breaker forced closed is never opened here', async () => {
    await local.refresh();
    for (const outcome of [failed('m'), failed('m'), ok('m'), failed('m'), failed('m')]) local.report('p', outcome);
    assert.deepEqual(await local.admit('p'), { admitted: true });
    published.set('p', { ...view('p', 'closed'), forced: 'closed' });
    await local.refresh();
    for (let call = 0; call < 5; call += 1) local.report('p', failed('m'));
    assert.deepEqual(await local.admit('p'), { admitted: true });
  });
});
