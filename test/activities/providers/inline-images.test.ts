// The worker's image fetch for providers that take image URLs `inline`: only
// public addresses (checked after DNS and on every redirect) unless a network
// is allowed, only allowed hosts, bounded size, redirects and time.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { ImageFetchSettingsSchema, type ImageFetchSettings } from '../../../common/config-schema';
import { GatewayError } from '../../../common/failure-types';
import { CanonicalRequestSchema } from '../../../common/request-schema';
import { addressAllowed, fetchImageAsDataUrl, ImageFetchRefused, inlineImageUrls } from '../../../activities/providers/inline-images';

const PNG = Buffer.from('89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489', 'hex');
let server: Server;
let origin: string;
let port: number;
/** Connections that reached the server, by path: a refused fetch must not have connected. */
const hits: string[] = [];

before(async () => {
  server = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://local');
    hits.push(url.pathname);
    switch (url.pathname) {
      case '/cat.png':
        response.writeHead(200, { 'content-type': 'image/png', 'content-length': PNG.length }).end(PNG);
        return;
      case '/redirect':
        response.writeHead(302, { location: url.searchParams.get('to') ?? '/' }).end();
        return;
      case '/loop':
        response.writeHead(301, { location: '/loop' }).end();
        return;
      case '/declared-big':
        response.writeHead(200, { 'content-type': 'image/png', 'content-length': 10_000 }).end(Buffer.alloc(10_000));
        return;
      case '/chunked-big':
        response.writeHead(200, { 'content-type': 'image/png' });
        for (let chunk = 0; chunk < 10; chunk += 1) response.write(Buffer.alloc(1_000));
        response.end();
        return;
      case '/page.html':
        response.writeHead(200, { 'content-type': 'text/html' }).end('<html></html>');
        return;
      case '/hang':
        return; // never answers
      default:
        response.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
  origin = `http://127.0.0.1:${port}`;
});

after(() => {
  server.closeAllConnections();
  server.close();
});

function settings(overrides: Partial<ImageFetchSettings> = {}): ImageFetchSettings {
  return { ...ImageFetchSettingsSchema.parse({}), ...overrides };
}
const LOOPBACK_ALLOWED = settings({ allowNetworks: ['127.0.0.1/32'] });

async function refusal(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof ImageFetchRefused, `expected ImageFetchRefused, got ${String(error)}`);
    return error.message;
  }
  assert.fail('the fetch was not refused');
}

test('an image on an allowed network comes back as a data URL of its bytes and type', async () => {
  const url = await fetchImageAsDataUrl(`${origin}/cat.png`, LOOPBACK_ALLOWED);
  assert.equal(url, `data:image/png;base64,${PNG.toString('base64')}`);
});

test('a loopback address is refused by default, before any connection', async () => {
  hits.length = 0;
  assert.equal(await refusal(fetchImageAsDataUrl(`${origin}/cat.png`, settings())), 'its address is not public');
  assert.deepEqual(hits, []);
});

test('a name that resolves to a loopback address is refused after DNS, before any connection', async () => {
  hits.length = 0;
  assert.equal(await refusal(fetchImageAsDataUrl(`http://localhost:${port}/cat.png`, settings())), 'its host resolves to an address that is not public');
  assert.deepEqual(hits, []);
});

test('a redirect to a private, link-local or loopback address or to another scheme is refused on that hop', async () => {
  for (const to of ['http://169.254.169.254/latest/meta-data/', 'http://10.0.0.7/cat.png', `http://[::1]:${port}/cat.png`, 'http://[::ffff:192.168.1.1]/x.png']) {
    hits.length = 0;
    const message = await refusal(fetchImageAsDataUrl(`${origin}/redirect?to=${encodeURIComponent(to)}`, LOOPBACK_ALLOWED));
    assert.equal(message, 'its address is not public', to);
    assert.deepEqual(hits, ['/redirect'], `${to}: only the first hop connected`);
  }
  assert.equal(
    await refusal(fetchImageAsDataUrl(`${origin}/redirect?to=${encodeURIComponent('file:///etc/passwd')}`, LOOPBACK_ALLOWED)),
    'a redirect led to a file: URL',
  );
});

test('redirects past maxRedirects are refused; within it they are followed', async () => {
  assert.equal(await refusal(fetchImageAsDataUrl(`${origin}/loop`, { ...LOOPBACK_ALLOWED, maxRedirects: 2 })), 'more than 2 redirects');
  const url = await fetchImageAsDataUrl(`${origin}/redirect?to=/cat.png`, { ...LOOPBACK_ALLOWED, maxRedirects: 1 });
  assert.ok(url.startsWith('data:image/png;base64,'));
});

test('an image over maxBytes is refused, whether its length is declared or not', async () => {
  const small = { ...LOOPBACK_ALLOWED, maxBytes: 5_000 };
  assert.equal(await refusal(fetchImageAsDataUrl(`${origin}/declared-big`, small)), 'the image is larger than 5000 bytes');
  assert.equal(await refusal(fetchImageAsDataUrl(`${origin}/chunked-big`, small)), 'the image is larger than 5000 bytes');
});

test('an answer that is not an image, a non-200 and a host that never answers are refused', async () => {
  assert.equal(await refusal(fetchImageAsDataUrl(`${origin}/page.html`, LOOPBACK_ALLOWED)), 'the answer is not a jpeg, png, gif or webp image');
  assert.equal(await refusal(fetchImageAsDataUrl(`${origin}/missing.png`, LOOPBACK_ALLOWED)), 'the image host answered HTTP 404');
  assert.equal(await refusal(fetchImageAsDataUrl(`${origin}/hang`, { ...LOOPBACK_ALLOWED, timeoutMs: 200 })), 'fetching it took longer than 200 ms');
});

test('a host off the allow-list is refused; a listed one and its subdomains pattern pass the host check', async () => {
  assert.equal(
    await refusal(fetchImageAsDataUrl(`${origin}/cat.png`, { ...LOOPBACK_ALLOWED, allowHosts: ['images.example.com', '*.cdn.example.com'] })),
    'its host is not on the allow-list (imageFetch.allowHosts)',
  );
  assert.ok((await fetchImageAsDataUrl(`${origin}/cat.png`, { ...LOOPBACK_ALLOWED, allowHosts: ['127.0.0.1'] })).startsWith('data:image/png'));
});

test('only public unicast addresses pass, unless inside an allowed network', () => {
  const none = { allowNetworks: [] };
  for (const address of ['127.0.0.1', '10.1.2.3', '172.16.0.1', '192.168.0.1', '169.254.169.254', '100.64.0.1', '0.0.0.0', '255.255.255.255', '224.0.0.1', '::1', '::', 'fd00::1', 'fe80::1', '::ffff:10.0.0.1', '64:ff9b::a00:1']) {
    assert.equal(addressAllowed(address, none), false, address);
  }
  for (const address of ['8.8.8.8', '1.1.1.1', '2606:4700:4700::1111', '::ffff:8.8.8.8']) assert.equal(addressAllowed(address, none), true, address);
  assert.equal(addressAllowed('10.20.3.4', { allowNetworks: ['10.20.0.0/16'] }), true);
  assert.equal(addressAllowed('10.21.3.4', { allowNetworks: ['10.20.0.0/16'] }), false);
});

test('inlining replaces each http(s) image URL, keeps data URLs and text, and a refusal is InvalidRequest with the URL only in its excerpt', async () => {
  const dataUrl = `data:image/gif;base64,R0lGODlhAQABAAAAACw=`;
  const request = CanonicalRequestSchema.parse({
    requestId: 'r1',
    tenantId: 't1',
    model: 'm',
    messages: [
      { role: 'system', content: 'be brief' },
      { role: 'user', content: [{ type: 'text', text: 'compare' }, { type: 'image_url', url: `${origin}/cat.png` }, { type: 'image_url', url: dataUrl }] },
    ],
  });
  const inlined = await inlineImageUrls(request, LOOPBACK_ALLOWED, { providerId: 'local' });
  assert.deepEqual(inlined.messages[1], {
    role: 'user',
    content: [
      { type: 'text', text: 'compare' },
      { type: 'image_url', url: `data:image/png;base64,${PNG.toString('base64')}` },
      { type: 'image_url', url: dataUrl },
    ],
  });
  assert.deepEqual(inlined.messages[0], request.messages[0]);

  const secretUrl = `${origin}/cat.png?user=alice@example.com`;
  const hostile = { ...request, messages: [{ role: 'user' as const, content: [{ type: 'image_url' as const, url: secretUrl }] }] };
  await assert.rejects(inlineImageUrls(hostile, settings(), { providerId: 'local' }), (error: unknown) => {
    assert.ok(error instanceof GatewayError);
    assert.equal(error.type, 'InvalidRequest');
    assert.equal(error.message, 'the image in messages[0] was not fetched: its address is not public');
    assert.equal(error.excerpt, secretUrl);
    return true;
  });
});
