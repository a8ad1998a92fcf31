// Runs in the workflow sandbox: deterministic, no I/O.
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

/** Custom search attributes every request workflow carries (registered when the server starts). */
export const TENANT_ATTRIBUTE = defineSearchAttributeKey('Tenant', SearchAttributeType.KEYWORD);
export const TASK_CLASS_ATTRIBUTE = defineSearchAttributeKey('TaskClass', SearchAttributeType.KEYWORD);
export const PROVIDER_ATTRIBUTE = defineSearchAttributeKey('Provider', SearchAttributeType.KEYWORD);
export const MODEL_ATTRIBUTE = defineSearchAttributeKey('Model', SearchAttributeType.KEYWORD);
export const FALLBACK_COUNT_ATTRIBUTE = defineSearchAttributeKey('FallbackCount', SearchAttributeType.INT);
export const OUTCOME_ATTRIBUTE = defineSearchAttributeKey('Outcome', SearchAttributeType.KEYWORD);
/** The business feature tag of the request (`x-gateway-feature`), `none` when untagged. */
export const FEATURE_ATTRIBUTE = defineSearchAttributeKey('Feature', SearchAttributeType.KEYWORD);
/** What the request cost in USD, failed attempts included. */
export const COST_ATTRIBUTE = defineSearchAttributeKey('CostUsd', SearchAttributeType.DOUBLE);

export const GATEWAY_SEARCH_ATTRIBUTES = [
  TENANT_ATTRIBUTE,
  TASK_CLASS_ATTRIBUTE,
  PROVIDER_ATTRIBUTE,
  MODEL_ATTRIBUTE,
  FALLBACK_COUNT_ATTRIBUTE,
  OUTCOME_ATTRIBUTE,
  FEATURE_ATTRIBUTE,
  COST_ATTRIBUTE,
] as const;

/** `Name=Type` pairs as `temporal server start-dev --search-attribute` and `operator search-attribute create` take them. */
export function searchAttributeFlags(): string[] {
  const typeNames: Record<string, string> = { KEYWORD: 'Keyword', INT: 'Int', DOUBLE: 'Double', TEXT: 'Text', BOOL: 'Bool' };
  return GATEWAY_SEARCH_ATTRIBUTES.map((key) => `${key.name}=${typeNames[key.type] ?? key.type}`);
}
