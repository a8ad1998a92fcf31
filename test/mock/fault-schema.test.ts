import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FaultSchema } from '../../mock/fault-schema';

const valid: unknown[] = [
  { status: 503 },
  { status: 429, retryAfterSeconds: 2 },
  { status: 529, message: 'Overloaded' },
  { hang: true },
  { latencyMs: 200 },
  { latencyMs: 20, jitterMs: 10 },
  { latencyMs: 20, status: 500, times: 3 },
  { firstTokenDelayMs: 5_000 },
  { chunkDelayMs: 10 },
  { malformed: true },
  { malformed: 'wrong-shape' },
  { cutStreamAfterChunks: 3 },
  { cutStreamAfterChunks: 0, times: 1 },
];

const invalid: Array<{ body: unknown; because: string }> = [
  { body: {}, because: 'it has no effect' },
  { body: { times: 2 }, because: 'times alone has no effect' },
  { body: { status: 200 }, because: 'a fault status is an error status' },
  { body: { status: 503, hang: true }, because: 'status and hang exclude each other' },
  { body: { hang: true, malformed: true }, because: 'hang and malformed exclude each other' },
  { body: { retryAfterSeconds: 1 }, because: 'retryAfterSeconds needs a status' },
  { body: { jitterMs: 5 }, because: 'jitterMs needs latencyMs' },
  { body: { latencyMs: -1 }, because: 'delays are not negative' },
  { body: { latencyMs: 1.5 }, because: 'delays are whole milliseconds' },
  { body: { hang: false }, because: 'hang is only ever true' },
  { body: { malformed: 'sometimes' }, because: 'malformed has two kinds' },
  { body: { times: 0, status: 500 }, because: 'times is at least one' },
  { body: { status: 500, extra: 1 }, because: 'unknown fields are rejected' },
];

for (const body of valid) {
  test(`the fault ${JSON.stringify(body)} is accepted`, () => {
    assert.equal(FaultSchema.safeParse(body).success, true);
  });
}

for (const { body, because } of invalid) {
  test(`the fault ${JSON.stringify(body)} is rejected because ${because}`, () => {
    assert.equal(FaultSchema.safeParse(body).success, false);
  });
}
