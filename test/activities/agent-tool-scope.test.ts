// The activity's own scope check (defence in depth behind the workflow's and
// the API's): a refused call returns before any I/O — outside an activity
// context, reaching the HTTP call would throw.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { AuditTrail } from '../../services/audit-trail';
import { createAgentToolActivities } from '../../activities/agent/agent-tools';
import { GatewayConfigSchema } from '../../common/config-schema';
import { ConfigStore } from '../../services/config-store';
import { parseConfig } from '../../runtime/load-config';
import { harnessConfig } from '../support/gateway-harness';

const config = {
  ...harnessConfig('http://127.0.0.1:1'),
  agents: { tools: { payroll: { url: 'http://127.0.0.1:1/payroll', tenants: ['beta'] } } },
};

function activities() {
  const events: Record<string, unknown>[] = [];
  const audit = { record: (event: Record<string, unknown>) => events.push(event) } as unknown as AuditTrail;
  return { events, ...createAgentToolActivities({ store: new ConfigStore(parseConfig(config), {}), audit }) };
}

test('a tool outside the run\'s tools is refused as a failed result and audited, never run', async () => {
  const { runAgentTool, events } = activities();
  const result = await runAgentTool({ name: 'calculator', arguments: '{"expression":"1+1"}', idempotencyKey: 'run_1/3/call_1', tenantId: 'alpha', allowedTools: ['current_time'] });
  assert.equal(result, 'error: the tool calculator is not available to this run');
  assert.deepEqual(events, [{ audit: 'agent_tool_refused', runId: 'run_1', tenantId: 'alpha', step: 3, tool: 'calculator', reason: 'not_given_to_run', checkedBy: 'activity' }]);
});

test("another tenant's HTTP tool is refused even when the run lists it", async () => {
  const { runAgentTool, events } = activities();
  const result = await runAgentTool({ name: 'payroll', arguments: '{}', idempotencyKey: 'run_1/1/call_1', tenantId: 'alpha', allowedTools: ['payroll'] });
  assert.equal(result, 'error: the tool payroll is not available to this tenant');
  assert.equal(events[0]?.reason, 'not_available_to_tenant');
});

test('a call without the run\'s tools (scheduled before scoping) is refused', async () => {
  const { runAgentTool } = activities();
  assert.match(await runAgentTool({ name: 'calculator', arguments: '{"expression":"1+1"}', idempotencyKey: 'run_1/1/call_1' }), /not available to this run/);
});

test('a given built-in tool still runs', async () => {
  const { runAgentTool, events } = activities();
  assert.equal(await runAgentTool({ name: 'calculator', arguments: '{"expression":"1+1"}', idempotencyKey: 'run_1/1/call_1', tenantId: 'alpha', allowedTools: ['calculator'] }), '2');
  assert.deepEqual(events, []);
});

test('a tool scoped to a tenant the config does not have is a config error naming the field', () => {
  const parsed = GatewayConfigSchema.safeParse({ ...config, agents: { tools: { payroll: { url: 'http://127.0.0.1:1/payroll', tenants: ['betta'] } } } });
  assert.equal(parsed.success, false);
  assert.deepEqual(parsed.error?.issues.map((issue) => [issue.path.join('.'), issue.message]), [['agents.tools.payroll.tenants.0', 'unknown tenant "betta"']]);
});
