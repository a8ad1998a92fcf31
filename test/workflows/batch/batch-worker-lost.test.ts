// A batch whose worker is lost while it holds one of the batch's file
// activities, on Temporal's time-skipping test server. The worker that took
// the page read never answers and never heartbeats, as a SIGKILLed process
// would; the batch goes on once the heartbeat timeout passes, not after the
// five-minute start-to-close timeout.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Context } from '@temporalio/activity';
import { temporal } from '@temporalio/proto';
import { BATCH_FILE_HEARTBEAT_TIMEOUT_MS } from '../../../common/constants';
import { useTimeSkippingWorker } from '../../support/time-skipping';
import type { BatchItem } from '../../../activities/batch/batch-activities';
import { batchWorkflow, type BatchInput } from '../../../workflows/batch/batch-workflow';

const TASK_QUEUE = 'batch-worker-lost';
const { EventType } = temporal.api.enums.v1;

const reads: number[] = [];

const timeSkipping = useTimeSkippingWorker(TASK_QUEUE, {
  shutdownGraceTime: '1s',
  activities: {
    openBatch: async () => ({ total: 2 }),
    async readBatchPage(): Promise<BatchItem[]> {
      const { attempt } = Context.current().info;
      reads.push(attempt);
      // The first worker to take the read is lost: no answer, no heartbeat.
      if (attempt === 1) await Context.current().cancelled;
      return [
        { index: 0, customId: 'a', invalid: 'not JSON' },
        { index: 1, customId: 'b', invalid: 'not JSON' },
      ];
    },
    writeBatchPage: async () => undefined,
    expireBatchRest: async () => 0,
    finalizeBatch: async () => ({ outputFileId: null, errorFileId: 'file-errors' }),
  },
});

test('a batch whose page read was held by a lost worker goes on after the heartbeat timeout', async () => {
  const createdAt = Math.floor((await timeSkipping.env.currentTimeMs()) / 1000);
  const input: BatchInput = {
    batchId: 'batch_lost_worker',
    tenantId: 'alpha',
    inputFileId: 'file-input',
    endpoint: '/v1/chat/completions',
    completionWindow: '24h',
    metadata: null,
    createdAt,
    concurrency: 2,
    pageSize: 10,
  };
  const handle = await timeSkipping.env.client.workflow.start(batchWorkflow, { workflowId: input.batchId, taskQueue: TASK_QUEUE, args: [input] });
  // Bounded: without a heartbeat timeout the lost read would hold the batch for its five-minute start-to-close timeout.
  const batch = await Promise.race([
    handle.result(),
    sleep(90_000, undefined, { ref: false }).then(() => assert.fail('the batch did not go on within 90 s of the lost read')),
  ]);
  assert.equal(batch.status, 'completed');
  assert.deepEqual(batch.request_counts, { total: 2, completed: 0, failed: 2 });
  assert.deepEqual(reads, [1, 2], 'the read was tried again');

  const { events } = await handle.fetchHistory();
  const time = (event: (typeof events & object)[number] | undefined) => Number(event?.eventTime?.seconds ?? 0) * 1000 + Math.floor((event?.eventTime?.nanos ?? 0) / 1e6);
  // The read: scheduled once, its second try started and answered.
  const retried = events?.find((event) => event.eventType === EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED && event.activityTaskStartedEventAttributes?.attempt === 2);
  assert.ok(retried, 'the read was tried a second time');
  const scheduledId = Number(retried.activityTaskStartedEventAttributes?.scheduledEventId);
  const scheduled = events?.find((event) => Number(event.eventId) === scheduledId);
  const answered = events?.find((event) => Number(event.activityTaskCompletedEventAttributes?.scheduledEventId ?? 0) === scheduledId);
  const waited = time(answered) - time(scheduled);
  assert.ok(
    waited >= BATCH_FILE_HEARTBEAT_TIMEOUT_MS && waited < BATCH_FILE_HEARTBEAT_TIMEOUT_MS + 30_000,
    `the lost try ended by its heartbeat timeout (${BATCH_FILE_HEARTBEAT_TIMEOUT_MS} ms), not its start-to-close timeout: the read took ${waited} ms of workflow time`,
  );
});
