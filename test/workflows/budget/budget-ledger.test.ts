import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { roundUsd } from '../../../common/pricing';
import { available, emptyLedger, expire, release, releasePrefix, reserve, settle, type BudgetLedger } from '../../../workflows/budget/budget-ledger';

const LEASE = 60_000;

test('reserves what fits, refuses what does not, and settles the actual cost', () => {
  let ledger = emptyLedger(1);
  const first = reserve(ledger, { id: 'a', amountUsd: 0.6, leaseMs: LEASE }, 0);
  assert.deepEqual(first.result, { granted: true, availableUsd: 0.4 });
  ledger = first.ledger;
  assert.equal(reserve(ledger, { id: 'b', amountUsd: 0.5, leaseMs: LEASE }, 1).result.granted, false, 'the worst case does not fit');
  ledger = settle(ledger, { id: 'a', costUsd: 0.2 }, 2);
  assert.equal(ledger.spentUsd, 0.2);
  assert.equal(available(ledger, 2), 0.8);
  assert.equal(reserve(ledger, { id: 'b', amountUsd: 0.5, leaseMs: LEASE }, 3).result.granted, true, 'it fits once the first attempt settled');
});

test('a repeated reserve or settle (a retried update) counts once', () => {
  let ledger = emptyLedger(1);
  ledger = reserve(ledger, { id: 'a', amountUsd: 0.4, leaseMs: LEASE }, 0).ledger;
  const again = reserve(ledger, { id: 'a', amountUsd: 0.4, leaseMs: LEASE }, 10);
  assert.equal(again.result.granted, true);
  assert.equal(again.result.availableUsd, 0.6, 'not reserved twice');
  ledger = settle(again.ledger, { id: 'a', costUsd: 0.3 }, 20);
  ledger = settle(ledger, { id: 'a', costUsd: 0.3 }, 30);
  assert.equal(ledger.spentUsd, 0.3, 'not charged twice');
  const afterSettle = reserve(ledger, { id: 'a', amountUsd: 0.4, leaseMs: LEASE }, 40);
  assert.equal(afterSettle.result.granted, true);
  assert.equal(afterSettle.result.availableUsd, 0.7, 'a settled id holds nothing when it asks again');
});

test('a reservation nothing settles is charged at its worst case when its lease ends, never freed; release frees one at once', () => {
  let ledger = emptyLedger(1);
  ledger = reserve(ledger, { id: 'crashed', amountUsd: 0.9, leaseMs: 1_000 }, 0).ledger;
  assert.equal(reserve(ledger, { id: 'next', amountUsd: 0.5, leaseMs: LEASE }, 500).result.granted, false);
  // Its call may have been billed, unseen: past the lease the money stays gone, charged apart.
  assert.equal(reserve(ledger, { id: 'next', amountUsd: 0.5, leaseMs: LEASE }, 1_000).result.granted, false);
  ledger = expire(ledger, 1_000);
  assert.equal(ledger.unsettledUsd, 0.9);
  assert.equal(ledger.spentUsd, 0);
  assert.equal(available(ledger, 1_000), 0.1);
  // A settle arriving after the lease cannot count the call a second time.
  ledger = settle(ledger, { id: 'crashed', costUsd: 0.4 }, 1_001);
  assert.equal(roundUsd(ledger.spentUsd + (ledger.unsettledUsd ?? 0)), 0.9);

  ledger = reserve(emptyLedger(1), { id: 'never-sent', amountUsd: 0.9, leaseMs: LEASE }, 0).ledger;
  ledger = release(ledger, { id: 'never-sent' }, 1);
  assert.equal(ledger.spentUsd, 0);
  assert.equal(available(ledger, 1), 1);
});

test('a settle charges the tries lost unseen apart from what the attempt cost, and frees its retries\' reservations', () => {
  let ledger = reserve(emptyLedger(1), { id: 'wf/run/1', amountUsd: 0.2, leaseMs: LEASE }, 0).ledger;
  ledger = reserve(ledger, { id: 'wf/run/1/try-2', amountUsd: 0.2, leaseMs: LEASE }, 1).ledger;
  ledger = reserve(ledger, { id: 'wf/run/10', amountUsd: 0.1, leaseMs: LEASE }, 1).ledger;
  ledger = settle(ledger, { id: 'wf/run/1', costUsd: 0.15, lostTries: 1 }, 2);
  assert.equal(ledger.spentUsd, 0.15);
  assert.equal(ledger.unsettledUsd, 0.2);
  assert.deepEqual(Object.keys(ledger.reservations), ['wf/run/10'], 'another attempt keeps its reservation');
  assert.equal(available(ledger, 2), 0.55);
});

test('lost tries are charged only up to the reservations the attempt held: a try calls only once one holds its worst case', () => {
  let ledger = reserve(emptyLedger(1), { id: 'wf/run/1', amountUsd: 0.3, leaseMs: LEASE }, 0).ledger;
  // Three tries counted lost (a pessimistic count), one reservation: one worst case is charged.
  ledger = settle(ledger, { id: 'wf/run/1', costUsd: 0, lostTries: 3 }, 1);
  assert.equal(ledger.unsettledUsd, 0.3);
  assert.equal(available(ledger, 1), 0.7);
});

const operation = fc.oneof(
  fc.record({ kind: fc.constant('reserve' as const), id: fc.integer({ min: 0, max: 15 }), amount: fc.double({ min: 0, max: 0.5, noNaN: true }), lease: fc.integer({ min: 1, max: 5_000 }) }),
  fc.record({ kind: fc.constant('settle' as const), id: fc.integer({ min: 0, max: 15 }), fraction: fc.double({ min: 0, max: 1, noNaN: true }) }),
  fc.record({ kind: fc.constant('release' as const), id: fc.integer({ min: 0, max: 15 }) }),
  fc.record({ kind: fc.constant('wait' as const), ms: fc.integer({ min: 0, max: 3_000 }) }),
);

test('property: when no attempt costs more than it reserved, spend plus live reservations never exceed the limit', () => {
  fc.assert(
    fc.property(fc.double({ min: 0.01, max: 2, noNaN: true }), fc.array(operation, { maxLength: 80 }), (limit, operations) => {
      let ledger: BudgetLedger = emptyLedger(limit);
      let now = 0;
      const reserved = new Map<string, number>();
      for (const step of operations) {
        if (step.kind === 'wait') now += step.ms;
        else if (step.kind === 'reserve') {
          const outcome = reserve(ledger, { id: String(step.id), amountUsd: step.amount, leaseMs: step.lease }, now);
          ledger = outcome.ledger;
          const live = ledger.reservations[String(step.id)];
          if (outcome.result.granted && live) reserved.set(String(step.id), live.amountUsd);
        } else if (step.kind === 'settle') {
          // An attempt that reserved settles at most its worst case; one that did not, at zero.
          ledger = settle(ledger, { id: String(step.id), costUsd: (ledger.reservations[String(step.id)]?.amountUsd ?? 0) * step.fraction }, now);
        } else ledger = release(ledger, { id: String(step.id) }, now);
        assert.ok(available(ledger, now) >= -1e-9, `overspent: ${JSON.stringify(ledger)}`);
      }
    }),
  );
});

test('property: settling an id again never changes the spend', () => {
  fc.assert(
    fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: 5 }), fc.double({ min: 0, max: 1, noNaN: true })), { maxLength: 30 }), (settles) => {
      let ledger = emptyLedger(100);
      const first = new Map<number, number>();
      for (const [id, cost] of settles) {
        ledger = settle(ledger, { id: String(id), costUsd: cost }, 0);
        if (!first.has(id)) first.set(id, cost);
      }
      const expected = [...first.values()].reduce((sum, cost) => sum + cost, 0);
      assert.ok(Math.abs(ledger.spentUsd - expected) < 1e-6);
    }),
  );
});

test("a finished request frees whatever it still holds, and only its own", () => {
  let ledger = emptyLedger(1);
  ledger = reserve(ledger, { id: 'wf-1/run-1/1', amountUsd: 0.3, leaseMs: 60_000 }, 0).ledger;
  ledger = reserve(ledger, { id: 'wf-1/run-1/2', amountUsd: 0.2, leaseMs: 60_000 }, 0).ledger;
  ledger = reserve(ledger, { id: 'wf-10/run-1/1', amountUsd: 0.1, leaseMs: 60_000 }, 0).ledger;
  ledger = settle(ledger, { id: 'wf-1/run-1/2', costUsd: 0.15 }, 1);
  ledger = releasePrefix(ledger, 'wf-1/run-1/', 2);
  assert.deepEqual(Object.keys(ledger.reservations), ['wf-10/run-1/1']);
  assert.equal(ledger.spentUsd, 0.15, 'what was settled stays spent');
  assert.equal(available(ledger, 2), 0.75);
});
