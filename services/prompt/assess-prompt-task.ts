// Runs in a worker thread of the prompt pool (services/prompt/assess-prompt.ts): one large prompt's assessment.
import { assessRequest } from './assess-request';
import type { GatewayConfig } from '../../common/config-schema';
import type { CanonicalRequest } from '../../common/request-schema';
import type { RequestAssessment } from '../../common/routing-snapshot-schema';

export interface AssessPromptTask {
  request: Pick<CanonicalRequest, 'tenantId' | 'messages' | 'tools' | 'tags'>;
  tenants: GatewayConfig['tenants'];
}

export default function assessPromptTask({ request, tenants }: AssessPromptTask): RequestAssessment {
  return assessRequest(request, { tenants });
}
