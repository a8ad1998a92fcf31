import { own } from '../../common/own';
import type { GatewayConfig } from '../../common/config-schema';
import type { CanonicalRequest } from '../../common/request-schema';
import type { RequestAssessment } from '../../common/routing-snapshot-schema';
import { countPromptTokens } from './count-prompt-tokens';
import { scanRequest } from './sensitive-data';

/**
 * What routing needs to know about one request that the request itself does
 * not say: its estimated prompt tokens, the personal and secret data it
 * holds (counts by kind, never values), and its tags with the tenant's
 * defaults filled in. The API calls it to refuse early and to explain a
 * route; the workflow gets it through the routing snapshot.
 */
export function assessRequest(
  request: Pick<CanonicalRequest, 'tenantId' | 'messages' | 'tools' | 'tags'>,
  config: Pick<GatewayConfig, 'tenants'>,
): RequestAssessment {
  return { promptTokens: countPromptTokens(request), findings: scanRequest(request), tags: assessTags(request, config) };
}

/** The request's tags with the tenant's defaults filled in: the cheap part of an assessment. */
export function assessTags(request: Pick<CanonicalRequest, 'tenantId' | 'tags'>, config: Pick<GatewayConfig, 'tenants'>): RequestAssessment['tags'] {
  const defaults = own(config.tenants, request.tenantId)?.defaults ?? {};
  const tags: RequestAssessment['tags'] = { ...defaults };
  for (const [key, value] of Object.entries(request.tags)) {
    if (value !== undefined) Object.assign(tags, { [key]: value });
  }
  return tags;
}
