// The shipped alert rules (deploy/prometheus/alerts.yml) hold to their unit
// tests (`promtool test rules`: series that fire each alert and series that
// must not), every alert is tested both ways, its runbook link resolves, and
// compose's Prometheus loads them and sends them to Alertmanager.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { parse as parseYaml } from 'yaml';
import { resolvePromtool } from '../../scripts/promtool';

const execFileAsync = promisify(execFile);
const ROOT = resolve(__dirname, '../..');
const RULES = join(ROOT, 'deploy/prometheus/alerts.yml');
const RULE_TESTS = join(ROOT, 'deploy/prometheus/alerts.test.yml');

interface Rule {
  /** An alerting rule's name (recording rules have `record` instead). */
  alert?: string;
  record?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}
interface RuleTest {
  name: string;
  alert_rule_test?: { alertname: string; exp_alerts: unknown[] }[];
  promql_expr_test?: { expr: string }[];
}

const allRules = (parseYaml(readFileSync(RULES, 'utf8')) as { groups: { rules: Rule[] }[] }).groups.flatMap((group) => group.rules);
const rules = allRules.filter((rule) => rule.alert !== undefined);
const ruleTests = (parseYaml(readFileSync(RULE_TESTS, 'utf8')) as { tests: RuleTest[] }).tests;

async function promtool(args: string[]): Promise<string> {
  const tool = await resolvePromtool();
  try {
    const { stdout, stderr } = await execFileAsync(tool.command, args, { cwd: ROOT, env: { ...process.env, ...tool.env }, encoding: 'utf8' });
    return `${stdout}${stderr}`;
  } catch (error) {
    const failed = error as { stdout?: string; stderr?: string };
    assert.fail(`promtool ${args.join(' ')} failed:\n${failed.stdout ?? ''}${failed.stderr ?? ''}`);
  }
}

test('promtool checks the rules and their unit tests pass', async () => {
  assert.match(await promtool(['check', 'rules', RULES]), /SUCCESS: \d+ rules found/);
  assert.match(await promtool(['test', 'rules', RULE_TESTS]), /SUCCESS/);
});

test('every alert is tested firing and quiet, has a severity, and links a runbook section that exists', () => {
  const runbook = readFileSync(join(ROOT, 'docs/runbook.md'), 'utf8');
  const anchors = new Set([...runbook.matchAll(/^#+ (.+)$/gm)].map((match) => (match[1] ?? '').toLowerCase().replace(/[^a-z0-9 -]/g, '').replace(/ /g, '-')));
  assert.ok(rules.length >= 6, `${rules.length} alerts`);
  for (const rule of rules) {
    const checks = ruleTests.flatMap((entry) => entry.alert_rule_test ?? []).filter((check) => check.alertname === rule.alert);
    assert.ok(checks.some((check) => check.exp_alerts.length > 0), `${rule.alert}: a test where it fires`);
    assert.ok(checks.some((check) => check.exp_alerts.length === 0), `${rule.alert}: a test where it must not`);
    assert.ok(['page', 'ticket'].includes(rule.labels?.severity ?? ''), `${rule.alert}: severity page or ticket`);
    const link = rule.annotations?.runbook ?? '';
    const anchor = /^docs\/runbook\.md#(.+)$/.exec(link)?.[1];
    assert.ok(anchor && anchors.has(anchor), `${rule.alert}: runbook link ${link} names a section of docs/runbook.md`);
  }
});

test('every recording rule has an expression test', () => {
  const recorded = allRules.flatMap((rule) => (rule.record === undefined ? [] : [rule.record]));
  assert.ok(recorded.length >= 1);
  for (const name of recorded) {
    assert.ok(ruleTests.some((entry) => entry.promql_expr_test?.some((check) => check.expr.includes(name))), `${name}: a promql_expr_test`);
  }
});

test('compose runs Prometheus with the rules and Alertmanager on loopback', () => {
  const prometheus = parseYaml(readFileSync(join(ROOT, 'deploy/prometheus/prometheus.yml'), 'utf8')) as {
    rule_files: string[];
    alerting: { alertmanagers: { static_configs: { targets: string[] }[] }[] };
  };
  assert.deepEqual(prometheus.rule_files, ['/etc/prometheus/alerts.yml']);
  assert.ok(prometheus.alerting.alertmanagers.some((manager) => manager.static_configs.some((statics) => statics.targets.includes('alertmanager:9093'))));
  const compose = parseYaml(readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8')) as { services: Record<string, { volumes?: string[]; ports?: string[] }> };
  assert.ok(compose.services.prometheus?.volumes?.includes('./deploy/prometheus/alerts.yml:/etc/prometheus/alerts.yml:ro'), 'Prometheus mounts the rules');
  const alertmanager = compose.services.alertmanager;
  assert.ok(alertmanager, 'an alertmanager service');
  assert.deepEqual(alertmanager.ports, ['127.0.0.1:9093:9093']);
  assert.ok(alertmanager.volumes?.some((volume) => volume.startsWith('./deploy/alertmanager/alertmanager.yml:')));
  const config = parseYaml(readFileSync(join(ROOT, 'deploy/alertmanager/alertmanager.yml'), 'utf8')) as { receivers: { webhook_configs?: unknown[] }[] };
  assert.ok(config.receivers.some((receiver) => (receiver.webhook_configs ?? []).length > 0), 'a webhook receiver example');
});
