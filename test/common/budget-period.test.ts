import assert from 'node:assert/strict';
import { test } from 'node:test';
import { budgetPeriodAt, budgetWorkflowId } from '../../common/budget-period';

test('a day period is the UTC calendar day', () => {
  const period = budgetPeriodAt('day', Date.parse('2026-11-25T23:59:59.999Z'));
  assert.deepEqual(period, { key: '2026-11-25', startsAt: Date.parse('2026-11-25T00:00:00Z'), endsAt: Date.parse('2026-11-26T00:00:00Z') });
  assert.equal(budgetPeriodAt('day', Date.parse('2026-11-26T00:00:00Z')).key, '2026-11-26');
});

test('a month period is the UTC calendar month, across the year end', () => {
  const period = budgetPeriodAt('month', Date.parse('2026-12-31T12:00:00Z'));
  assert.deepEqual(period, { key: '2026-12', startsAt: Date.parse('2026-12-01T00:00:00Z'), endsAt: Date.parse('2027-01-01T00:00:00Z') });
  assert.equal(budgetPeriodAt('month', Date.parse('2027-02-28T00:00:00Z')).endsAt, Date.parse('2027-03-01T00:00:00Z'));
});

test('each budget and period has its own ledger workflow', () => {
  assert.equal(budgetWorkflowId('checkout-daily', '2026-11-25'), 'budget-checkout-daily-2026-11-25');
});
