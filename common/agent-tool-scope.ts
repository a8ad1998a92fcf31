// Runs in the workflow sandbox: deterministic, no I/O.
import type { AgentHttpTool } from './config-schema';

/** Whether a tenant may use an HTTP tool: a tool without `tenants` serves every tenant. */
export function toolServesTenant(tool: AgentHttpTool, tenantId: string): boolean {
  return tool.tenants === undefined || tool.tenants.includes(tenantId);
}

/** Why a tool call was refused instead of run. */
export type ToolRefusalReason = 'not_given_to_run' | 'not_available_to_tenant';

/** A tool call refused without running, as the audit trail records it (`agent_tool_refused`). */
export interface ToolRefusal {
  runId: string;
  tenantId: string;
  step: number;
  tool: string;
  reason: ToolRefusalReason;
  /** Which check caught it: the workflow (the run's tools) or the activity (again, and the tenant's tools). */
  checkedBy: 'workflow' | 'activity';
}

/** The failed tool result the model reads for a refused call: the run goes on. */
export function toolRefusalText(tool: string, reason: ToolRefusalReason): string {
  return reason === 'not_given_to_run' ? `error: the tool ${tool} is not available to this run` : `error: the tool ${tool} is not available to this tenant`;
}
