import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import OpenAI from 'openai';
import { createMockApp, startMockProvider } from '../../mock/mock-provider';
import { MockState } from '../../mock/mock-state';

test('the mock listens on 127.0.0.1 at a free port and its URL has no trailing slash', async () => {
  const mock = await startMockProvider();
  try {
    assert.ok(mock.port > 0);
    assert.equal(mock.url, `http://127.0.0.1:${mock.port}`);
  } finally {
    await mock.close();
  }
});

test('closing the mock ends requests that hang, so the close itself does not hang', async () => {
  const mock = await startMockProvider();
  mock.state.setFault('hangs-forever', { hang: true });
  const openai = new OpenAI({ baseURL: `${mock.url}/v1`, apiKey: 'test', maxRetries: 0 });
  const pending = openai.chat.completions.create({
    model: 'hangs-forever',
    messages: [{ role: 'user', content: 'hi' }],
  });
  // Close only once the request has reached the mock, so the close really meets a hanging request.
  while (mock.state.callCount('hangs-forever') === 0) await new Promise((resolve) => setTimeout(resolve, 5));
  await mock.close();
  await assert.rejects(pending, OpenAI.APIConnectionError);
});

test('closing the mock twice is harmless', async () => {
  const mock = await startMockProvider();
  await mock.close();
  await mock.close();
});

test('the app can be served by any HTTP server and shares the state it was given', async () => {
  const state = new MockState();
  const server = createServer(createMockApp(state));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const { port } = server.address() as AddressInfo;
    const openai = new OpenAI({ baseURL: `http://127.0.0.1:${port}/v1`, apiKey: 'test', maxRetries: 0 });
    await openai.chat.completions.create({ model: 'served-elsewhere', messages: [{ role: 'user', content: 'hi' }] });
    assert.equal(state.callCount('served-elsewhere'), 1);
  } finally {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

test('an unknown path is a 404 in the OpenAI error format', async () => {
  const mock = await startMockProvider();
  try {
    const response = await fetch(`${mock.url}/v1/nothing-here`);
    assert.equal(response.status, 404);
    assert.deepEqual(await response.json(), {
      error: { message: 'Invalid URL (GET /v1/nothing-here)', type: 'invalid_request_error', param: null, code: null },
    });
  } finally {
    await mock.close();
  }
});
