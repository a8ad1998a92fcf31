import type { Request } from 'express';
import { CAPABILITIES, type Capability, type GatewayConfig } from '../common/config-schema';
import { REQUEST_LIMITS, type PolicyTags } from '../common/request-schema';
import { HttpError } from '../dialects/http-error';
import { own } from '../common/own';

/** Each routing tag: its header, its key in the body's `metadata`, and how its text is read. */
const TAGS = [
  { key: 'taskClass', header: 'x-gateway-task-class', metadata: 'task_class', parse: name },
  { key: 'sensitivity', header: 'x-gateway-sensitivity', metadata: 'sensitivity', parse: name },
  { key: 'criticality', header: 'x-gateway-criticality', metadata: 'criticality', parse: name },
  { key: 'latencyBudgetMs', header: 'x-gateway-latency-budget-ms', metadata: 'latency_budget_ms', parse: latencyBudget },
  { key: 'costCeilingUsd', header: 'x-gateway-cost-ceiling-usd', metadata: 'cost_ceiling_usd', parse: costCeiling },
  { key: 'capabilities', header: 'x-gateway-capabilities', metadata: 'capabilities', parse: capabilities },
  { key: 'feature', header: 'x-gateway-feature', metadata: 'feature', parse: name },
  { key: 'cache', header: 'x-gateway-cache', metadata: 'cache', parse: cacheMode },
] as const;

/**
 * The request's routing tags, from `x-gateway-*` headers or the body's
 * `metadata` (a header wins), each checked against the config: an unknown
 * task class, sensitivity class or criticality tier is a 400 naming it.
 * Tags left unset take the tenant's defaults later, in the assessment. A
 * sensitivity tag may raise the tenant's default class, never lower it: a
 * lower one is a 400 naming the tenant's floor.
 */
export function readPolicyTags(request: Request, metadata: Readonly<Record<string, string>> | undefined, config: GatewayConfig, tenantId: string): PolicyTags {
  const tags: Record<string, unknown> = {};
  for (const tag of TAGS) {
    const fromHeader = request.header(tag.header);
    const text = fromHeader ?? metadata?.[tag.metadata];
    if (text === undefined) continue;
    const param = fromHeader === undefined ? `metadata.${tag.metadata}` : tag.header;
    tags[tag.key] = tag.parse(text.trim(), param);
  }
  const parsed = tags as PolicyTags;
  checkKnown(parsed.taskClass, config.taskClasses, 'task class', 'x-gateway-task-class');
  checkKnown(parsed.criticality, config.criticality.tiers, 'criticality tier', 'x-gateway-criticality');
  if (parsed.sensitivity !== undefined && !config.sensitivity.classes.includes(parsed.sensitivity)) {
    throw invalid('x-gateway-sensitivity', `unknown sensitivity class "${parsed.sensitivity}"; known: ${config.sensitivity.classes.join(', ')}`);
  }
  const floor = own(config.tenants, tenantId)?.defaults?.sensitivity;
  if (parsed.sensitivity !== undefined && floor !== undefined && config.sensitivity.classes.indexOf(parsed.sensitivity) < config.sensitivity.classes.indexOf(floor)) {
    const param = request.header('x-gateway-sensitivity') === undefined ? 'metadata.sensitivity' : 'x-gateway-sensitivity';
    throw new HttpError(400, 'invalid_request_error', `sensitivity "${parsed.sensitivity}" is below this tenant's default "${floor}": a request may raise its sensitivity class, never lower it`, {
      param,
      code: 'sensitivity_below_tenant_default',
    });
  }
  return parsed;
}

function checkKnown(value: string | undefined, known: Readonly<Record<string, unknown>>, what: string, param: string): void {
  if (value !== undefined && !Object.hasOwn(known, value)) {
    const names = Object.keys(known);
    throw invalid(param, `unknown ${what} "${value}"${names.length > 0 ? `; known: ${names.join(', ')}` : ''}`);
  }
}

function invalid(param: string, message: string): HttpError {
  return new HttpError(400, 'invalid_request_error', message, { param, code: 'invalid_value' });
}

function name(text: string, param: string): string {
  if (!/^[a-z][a-z0-9_-]{0,63}$/.test(text)) throw invalid(param, `${param} must be a lowercase name (letters, digits, _ or -)`);
  return text;
}

function cacheMode(text: string, param: string): 'bypass' | 'allow' {
  if (text !== 'bypass' && text !== 'allow') throw invalid(param, `${param} must be bypass or allow`);
  return text;
}

function latencyBudget(text: string, param: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1 || value > REQUEST_LIMITS.maxTimeoutMs) {
    throw invalid(param, `${param} must be an integer number of milliseconds from 1 to ${REQUEST_LIMITS.maxTimeoutMs}`);
  }
  return value;
}

function costCeiling(text: string, param: string): number {
  const value = Number(text);
  if (!/^\d+(\.\d+)?$/.test(text) || !(value > 0) || value > 1_000) throw invalid(param, `${param} must be a USD amount above 0 and at most 1000`);
  return value;
}

function capabilities(text: string, param: string): Capability[] {
  const listed = text.split(',').map((part) => part.trim()).filter((part) => part !== '');
  const unknown = listed.filter((part) => !(CAPABILITIES as readonly string[]).includes(part));
  if (unknown.length > 0) throw invalid(param, `unknown capabilities ${unknown.join(', ')}; known: ${CAPABILITIES.join(', ')}`);
  return CAPABILITIES.filter((capability) => listed.includes(capability));
}
