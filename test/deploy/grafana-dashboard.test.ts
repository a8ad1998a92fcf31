// The provisioned Grafana dashboard only charts what the gateway exports: every
// query parses (promtool), names registered metrics, and groups by labels
// those metrics carry.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { stringify as toYaml } from 'yaml';
import { registry } from '../../runtime/metrics';
import { resolvePromtool } from '../../scripts/promtool';

const execFileAsync = promisify(execFile);
const dashboard = JSON.parse(readFileSync(resolve(__dirname, '../../deploy/grafana/dashboards/switchyard.json'), 'utf8')) as {
  panels: { title: string; targets: { expr: string }[] }[];
};
const queries = dashboard.panels.flatMap((panel) => panel.targets.map((target) => ({ title: panel.title, expr: target.expr })));

/** The switchyard_* metrics a query reads (a histogram's _bucket/_count/_sum read the histogram). */
function metricsOf(expr: string): string[] {
  return [...expr.matchAll(/switchyard_[a-z_]+/g)].map((match) => match[0].replace(/_(bucket|count|sum)$/, ''));
}

test('every switchyard_* metric the Grafana dashboard queries is registered', () => {
  const queried = new Set(queries.flatMap((query) => metricsOf(query.expr)));
  assert.ok(queried.size >= 8);
  for (const name of queried) assert.ok(registry.getSingleMetric(name), `${name} is exported`);
});

test('every label a panel groups by is a label of a metric it reads', () => {
  for (const { title, expr } of queries) {
    const labels = new Set(['le']);
    for (const name of metricsOf(expr)) {
      for (const label of (registry.getSingleMetric(name) as unknown as { labelNames?: string[] } | undefined)?.labelNames ?? []) labels.add(label);
    }
    for (const clause of expr.matchAll(/\bby \(([^)]*)\)/g)) {
      for (const label of (clause[1] ?? '').split(',').map((part) => part.trim())) {
        assert.ok(labels.has(label), `"${title}" groups by ${label}, which ${metricsOf(expr).join(', ')} do not carry`);
      }
    }
  }
});

test('every panel query is valid PromQL (promtool checks them as recording rules)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'switchyard-grafana-'));
  try {
    const file = join(dir, 'panels.yml');
    writeFileSync(file, toYaml({ groups: [{ name: 'panels', rules: queries.map((query, index) => ({ record: `panel:query:${index}`, expr: query.expr })) }] }));
    const tool = await resolvePromtool();
    const checked = await execFileAsync(tool.command, ['check', 'rules', file], { env: { ...process.env, ...tool.env }, encoding: 'utf8' }).then(
      ({ stdout, stderr }) => `${stdout}${stderr}`,
      (error: { stdout?: string; stderr?: string }) => assert.fail(`promtool rejects a panel query:\n${error.stdout ?? ''}${error.stderr ?? ''}`),
    );
    assert.match(checked, new RegExp(`SUCCESS: ${queries.length} rules found`));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
