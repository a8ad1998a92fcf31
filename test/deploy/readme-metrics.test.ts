// The README's metrics table names every series the gateway exports, with
// every label it carries: operators write queries from it.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { test } from 'node:test';
import { registry } from '../../runtime/metrics';
// Registered by the API processes.
import '../../api/running-jobs-metric';

test("the README's metrics table lists every switchyard_* series with its labels", async () => {
  const readme = readFileSync(resolve(__dirname, '../../README.md'), 'utf8');
  const rows = readme.split('\n').filter((line) => line.startsWith('| `switchyard_'));
  const exported = (await registry.getMetricsAsJSON()).filter((metric) => !/^switchyard_(process|nodejs)_/.test(metric.name));
  assert.ok(exported.length >= 14, `the gateway's own series (${exported.length})`);
  for (const metric of exported) {
    const row = rows.find((line) => line.split('|')[1]?.includes(`\`${metric.name}\``));
    assert.ok(row, `a README row for ${metric.name}`);
    const labels = (registry.getSingleMetric(metric.name) as unknown as { labelNames: readonly string[] }).labelNames;
    for (const label of labels) assert.ok(row.includes(`\`${label}\``), `the README row of ${metric.name} names its label ${label}`);
  }
});
