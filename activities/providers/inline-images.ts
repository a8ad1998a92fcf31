import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import ipaddr from 'ipaddr.js';
import type { ImageFetchSettings } from '../../common/config-schema';
import { GatewayError } from '../../common/failure-types';
import type { CanonicalRequest, ContentPart } from '../../common/request-schema';

/** The image types every vendor takes. */
const IMAGE_TYPES = new Set(['image/jpeg', 'image/png', 'image/gif', 'image/webp']);

/**
 * Why an image was not fetched. Its message names no URL and nothing the
 * image host sent: failure messages are stored unencrypted.
 */
export class ImageFetchRefused extends Error {
  override readonly name = 'ImageFetchRefused';
}

/**
 * The request with every http(s) image URL replaced by the image itself, as
 * a data URL, fetched by this worker under `settings`: the provider never
 * sees (or fetches) an address the caller chose. An image that may not or
 * cannot be fetched is the caller's error: `InvalidRequest`, its URL only in
 * the failure's encrypted details.
 */
export async function inlineImageUrls(
  request: CanonicalRequest,
  settings: ImageFetchSettings,
  context: { providerId: string; signal?: AbortSignal },
): Promise<CanonicalRequest> {
  if (!request.messages.some((message) => message.role === 'user' && Array.isArray(message.content) && message.content.some(isRemoteImage))) return request;
  const messages: CanonicalRequest['messages'] = [];
  for (const [index, message] of request.messages.entries()) {
    if (message.role !== 'user' || !Array.isArray(message.content)) {
      messages.push(message);
      continue;
    }
    const content: ContentPart[] = [];
    for (const part of message.content) {
      if (part.type !== 'image_url' || !isRemoteImage(part)) {
        if (part.type === 'image_url' && !part.url.startsWith('data:')) {
          throw new GatewayError('InvalidRequest', `an image in messages[${index}] is neither an http(s) URL nor a data URL`, {
            provider: context.providerId,
            excerpt: part.url.slice(0, 200),
          });
        }
        content.push(part);
        continue;
      }
      try {
        content.push({ type: 'image_url', url: await fetchImageAsDataUrl(part.url, settings, context.signal) });
      } catch (error) {
        if (!(error instanceof ImageFetchRefused)) throw error;
        throw new GatewayError('InvalidRequest', `the image in messages[${index}] was not fetched: ${error.message}`, {
          provider: context.providerId,
          excerpt: part.url.slice(0, 200),
        });
      }
    }
    messages.push({ ...message, content });
  }
  return { ...request, messages };
}

function isRemoteImage(part: ContentPart): boolean {
  return part.type === 'image_url' && /^https?:\/\//i.test(part.url);
}

/**
 * Fetches one image as a `data:` URL. Refuses (ImageFetchRefused) a host off
 * the allow-list, any address that is not public unicast (unless in
 * `allowNetworks`) — checked on the addresses the name resolves to, which are
 * the ones connected to, and again on every redirect —, more redirects than
 * allowed, an answer other than 200 with an image type, more than `maxBytes`
 * and a fetch longer than `timeoutMs`. `signal` cancels it (the activity's).
 */
export async function fetchImageAsDataUrl(url: string, settings: ImageFetchSettings, signal?: AbortSignal): Promise<string> {
  const deadline = AbortSignal.timeout(settings.timeoutMs);
  const abort = signal ? AbortSignal.any([signal, deadline]) : deadline;
  let target = new URL(url);
  try {
    for (let redirects = 0; ; redirects += 1) {
      checkTarget(target, settings);
      const response = await get(target, settings, abort);
      const status = response.statusCode ?? 0;
      const location = response.headers.location;
      if (status >= 300 && status < 400 && location !== undefined) {
        response.destroy();
        if (redirects >= settings.maxRedirects) throw new ImageFetchRefused(`more than ${settings.maxRedirects} redirects`);
        target = new URL(location, target);
        continue;
      }
      if (status !== 200) {
        response.destroy();
        throw new ImageFetchRefused(`the image host answered HTTP ${status}`);
      }
      const mediaType = (response.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
      if (!IMAGE_TYPES.has(mediaType)) {
        response.destroy();
        throw new ImageFetchRefused('the answer is not a jpeg, png, gif or webp image');
      }
      const body = await readAtMost(response, settings.maxBytes);
      return `data:${mediaType};base64,${body.toString('base64')}`;
    }
  } catch (error) {
    if (error instanceof ImageFetchRefused) throw error;
    if (signal?.aborted) throw error;
    if (deadline.aborted) throw new ImageFetchRefused(`fetching it took longer than ${settings.timeoutMs} ms`);
    if (error instanceof TypeError && (error as { code?: string }).code === 'ERR_INVALID_URL') throw new ImageFetchRefused('a redirect named an invalid URL');
    const code = (error as { code?: string }).code;
    throw new ImageFetchRefused(`the image host could not be reached${code ? ` (${code})` : ''}`);
  }
}

function checkTarget(target: URL, settings: ImageFetchSettings): void {
  if (target.protocol !== 'http:' && target.protocol !== 'https:') throw new ImageFetchRefused(`a redirect led to a ${target.protocol} URL`);
  const host = bareHost(target);
  if (settings.allowHosts && !settings.allowHosts.some((allowed) => hostMatches(host, allowed))) {
    throw new ImageFetchRefused('its host is not on the allow-list (imageFetch.allowHosts)');
  }
  // A literal address is connected to without a lookup: check it here.
  if (isIP(host) !== 0 && !addressAllowed(host, settings)) throw new ImageFetchRefused('its address is not public');
}

/** The URL's host without the brackets of an IPv6 literal. */
function bareHost(target: URL): string {
  return target.hostname.replace(/^\[(.*)\]$/, '$1').toLowerCase();
}

function hostMatches(host: string, allowed: string): boolean {
  return allowed.startsWith('*.') ? host.endsWith(allowed.slice(1)) : host === allowed;
}

/** Public unicast, or inside a network the config allows. IPv4-mapped IPv6 counts as its IPv4 address. */
export function addressAllowed(address: string, settings: Pick<ImageFetchSettings, 'allowNetworks'>): boolean {
  if (!ipaddr.isValid(address)) return false;
  const parsed = ipaddr.process(address);
  const inAllowed = settings.allowNetworks.some((cidr) => {
    const [network, bits] = ipaddr.parseCIDR(cidr);
    return network.kind() === parsed.kind() && parsed.match(network, bits);
  });
  return inAllowed || parsed.range() === 'unicast';
}

/** DNS as usual, but a name with any address that is not allowed resolves to an error: the socket connects only to checked addresses. */
function guardedLookup(settings: ImageFetchSettings): LookupFunction {
  return ((hostname: string, options: { all?: boolean }, callback: (...args: unknown[]) => void) => {
    dnsLookup(hostname, { ...options, all: true }, (error, addresses: LookupAddress[]) => {
      if (error) return callback(error);
      if (addresses.length === 0 || addresses.some(({ address }) => !addressAllowed(address, settings))) {
        return callback(new ImageFetchRefused('its host resolves to an address that is not public'));
      }
      if (options.all) return callback(null, addresses);
      const [first] = addresses;
      return callback(null, first?.address, first?.family);
    });
  }) as unknown as LookupFunction;
}

function get(target: URL, settings: ImageFetchSettings, signal: AbortSignal): Promise<IncomingMessage> {
  const transport = target.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const request = transport.get(target, { lookup: guardedLookup(settings), signal, headers: { accept: [...IMAGE_TYPES].join(', ') } }, resolve);
    request.on('error', reject);
  });
}

async function readAtMost(response: IncomingMessage, maxBytes: number): Promise<Buffer> {
  const declared = Number(response.headers['content-length']);
  if (Number.isFinite(declared) && declared > maxBytes) {
    response.destroy();
    throw new ImageFetchRefused(`the image is larger than ${maxBytes} bytes`);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of response as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxBytes) {
      response.destroy();
      throw new ImageFetchRefused(`the image is larger than ${maxBytes} bytes`);
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}
