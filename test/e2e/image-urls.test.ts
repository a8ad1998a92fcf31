// Image URLs per provider, through the real path (official `openai` client →
// API → Temporal → worker → mock provider): a self-hosted provider gets the
// image's bytes fetched by the worker (never the caller's URL, never a private
// address), a provider that forwards gets the URL, and one that refuses URLs is
// routed around — or the request is refused with a 400 before anything starts.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import OpenAI from 'openai';
import type { Harness } from '../support/gateway-harness';
import { harnessPerFile } from '../support/harness-per-file';

let harness: Harness;
let openai: OpenAI;
let images: Server;
let imageOrigin: string;
const PNG = Buffer.from('89504e470d0a1a0a0000000d4948445200000001000000010806000000', 'hex');

before(async () => {
  images = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://images');
    if (url.pathname === '/cat.png') response.writeHead(200, { 'content-type': 'image/png' }).end(PNG);
    else if (url.pathname === '/to-metadata') response.writeHead(302, { location: 'http://169.254.169.254/latest/meta-data/iam' }).end();
    else response.writeHead(404).end();
  });
  await new Promise<void>((resolve) => images.listen(0, '127.0.0.1', resolve));
  imageOrigin = `http://127.0.0.1:${(images.address() as AddressInfo).port}`;
});

after(() => {
  images.closeAllConnections();
  images.close();
});

harnessPerFile((started) => ({ harness, openai } = started), {
  configure: (config) => ({
    ...config,
    providers: {
      ...config.providers,
      // The hosted OpenAI-dialect provider takes no URLs; the Anthropic one forwards them (its default).
      'mock-openai': { ...config.providers['mock-openai']!, imageUrls: 'refuse' },
      // Self-hosted: inline by default. The test's image server is on loopback, so that one address is allowed.
      'mock-local': { ...config.providers['mock-local']!, imageFetch: { allowNetworks: ['127.0.0.1/32'] } },
    },
    models: {
      ...config.models,
      'model-c': { ...config.models['model-c']!, capabilities: ['vision', 'tools', 'json_object', 'json_schema', 'streaming'] },
      // Hosted, on the provider that refuses URLs, with no fallbacks.
      'model-hosted': { provider: 'mock-openai', approvedFor: ['public', 'internal'] },
    },
  }),
});

function withImage(url: string): OpenAI.Chat.ChatCompletionMessageParam[] {
  return [{ role: 'user', content: [{ type: 'text', text: 'what is on this picture?' }, { type: 'image_url', image_url: { url } }] }];
}

async function requestWorkflows(): Promise<number> {
  let count = 0;
  for await (const _execution of harness.client.workflow.list({ query: `WorkflowType = 'llmRequestWorkflow'` })) count += 1;
  return count;
}

/** Every image URL in the bodies `model` received. */
async function imageUrlsReceived(model: string): Promise<string[]> {
  const bodies = await harness.control.receivedRequests(model);
  return JSON.stringify(bodies).match(/"url":"[^"]*"/g)?.map((match) => match.slice(7, -1)) ?? [];
}

// First in the file, so "nothing starts" means no workflow at all.
test('an image URL for a model whose provider refuses URLs, with no other model, is a 400 no_eligible_model and starts nothing', async () => {
  await assert.rejects(openai.chat.completions.create({ model: 'model-hosted', messages: withImage(`${imageOrigin}/cat.png`) }), (error: unknown) => {
    assert.ok(error instanceof OpenAI.BadRequestError, String(error));
    assert.equal(error.code, 'no_eligible_model');
    assert.equal(error.message, '400 no configured model may serve this request (model-hosted: its provider takes no image URLs (send the image as a data URL))');
    return true;
  });
  assert.equal(await requestWorkflows(), 0);
  assert.deepEqual(await harness.calls(), {});
});

test('the same model takes the image as a data URL', async () => {
  const dataUrl = `data:image/png;base64,${PNG.toString('base64')}`;
  const completion = await openai.chat.completions.create({ model: 'model-hosted', messages: withImage(dataUrl) });
  assert.ok(completion.choices[0]?.message.content);
  assert.deepEqual(await imageUrlsReceived('model-hosted'), [dataUrl]);
});

test('a self-hosted provider receives the image fetched by the worker, never the caller URL', async () => {
  const { data, response } = await openai.chat.completions.create({ model: 'model-c', messages: withImage(`${imageOrigin}/cat.png`) }).withResponse();
  assert.equal(response.headers.get('x-gateway-model'), 'model-c');
  assert.ok(data.choices[0]?.message.content);
  assert.deepEqual(await imageUrlsReceived('model-c'), [`data:image/png;base64,${PNG.toString('base64')}`]);
});

test('an image URL that redirects to the cloud metadata address is a 400 naming the message, and the self-hosted model is never called', async () => {
  const secretPath = `${imageOrigin}/to-metadata?owner=alice`;
  await assert.rejects(openai.chat.completions.create({ model: 'model-c', messages: withImage(secretPath) }), (error: unknown) => {
    assert.ok(error instanceof OpenAI.BadRequestError, String(error));
    assert.equal(error.type, 'invalid_request_error');
    assert.match(error.message, /the image in messages\[0\] was not fetched: its address is not public/);
    assert.doesNotMatch(error.message, /alice|127\.0\.0\.1/, 'the message repeats no part of the URL');
    return true;
  });
  assert.equal((await harness.calls())['model-c'] ?? 0, 0);
});

test('a model whose provider refuses URLs is routed around: the next one forwards the URL as it came', async () => {
  const url = `${imageOrigin}/cat.png`;
  const { response } = await openai.chat.completions.create({ model: 'model-a', messages: withImage(url) }).withResponse();
  assert.equal(response.headers.get('x-gateway-model'), 'model-b');
  assert.equal((await harness.calls())['model-a'] ?? 0, 0);
  const bodies = JSON.stringify(await harness.control.receivedRequests('model-b'));
  assert.ok(bodies.includes(`"source":{"type":"url","url":"${url}"}`), bodies);
});
