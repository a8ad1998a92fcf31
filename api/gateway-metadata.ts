import type { CanonicalResponse } from '../common/response-schema';

/** The route story every dialect's response carries in its `gateway` block. */
export function gatewayMetadata(response: CanonicalResponse) {
  return {
    workflow_id: response.workflowId,
    provider: response.provider,
    outcome: response.outcome,
    fallbacks: response.fallbacks,
    attempts: response.attempts,
    config_version: response.configVersion,
    warnings: response.warnings,
  };
}
