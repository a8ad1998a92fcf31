import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ActivityFailure, ApplicationFailure, RetryState, TimeoutFailure, TimeoutType } from '@temporalio/common';
import { classifyActivityFailure } from '../../workflows/classify-activity-failure';

function failedWith(cause: Error): ActivityFailure {
  return new ActivityFailure('activity failed', 'callModel', '3', RetryState.MAXIMUM_ATTEMPTS_REACHED, 'worker', cause);
}

const rows: { name: string; cause: Error; expected: { type: string; tries: number; lostTries?: number } }[] = [
  {
    name: 'a provider failure with no lost try',
    cause: ApplicationFailure.create({ type: 'ProviderUnavailable', message: '503', details: [{ attempt: 3 }] }),
    expected: { type: 'ProviderUnavailable', tries: 3 },
  },
  {
    name: 'a provider failure after a try lost with its worker',
    cause: ApplicationFailure.create({ type: 'ProviderUnavailable', message: '503', details: [{ attempt: 3, lostTries: 1 }] }),
    expected: { type: 'ProviderUnavailable', tries: 3, lostTries: 1 },
  },
  {
    name: 'a retry refused by the budget carries the lost try',
    cause: ApplicationFailure.create({ type: 'BudgetExceeded', message: 'no room', details: [{ attempt: 2, lostTries: 1 }] }),
    expected: { type: 'BudgetExceeded', tries: 2, lostTries: 1 },
  },
  {
    name: 'a heartbeat timeout: the try it cut off is lost too',
    cause: new TimeoutFailure('heartbeat', { attempt: 1 }, TimeoutType.HEARTBEAT),
    expected: { type: 'Timeout', tries: 1, lostTries: 1 },
  },
  {
    name: 'a timeout after earlier lost tries adds itself to them',
    cause: new TimeoutFailure('schedule to close', { attempt: 3, lostTries: 2 }, TimeoutType.SCHEDULE_TO_CLOSE),
    expected: { type: 'Timeout', tries: 3, lostTries: 3 },
  },
];

for (const row of rows) {
  test(`classifies ${row.name}`, () => {
    const { type, tries, lostTries } = classifyActivityFailure(failedWith(row.cause));
    assert.deepEqual({ type, tries, ...(lostTries === undefined ? {} : { lostTries }) }, row.expected);
  });
}
