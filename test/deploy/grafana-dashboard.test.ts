// The provisioned Grafana dashboard only charts metrics the gateway exports.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { test } from 'node:test';
import { registry } from '../../runtime/metrics';

test('every switchyard_* metric the Grafana dashboard queries is registered', () => {
  const dashboard = JSON.parse(readFileSync(resolve(__dirname, '../../deploy/grafana/dashboards/switchyard.json'), 'utf8')) as {
    panels: { title: string; targets: { expr: string }[] }[];
  };
  const queried = new Set<string>();
  for (const panel of dashboard.panels) {
    for (const target of panel.targets) {
      for (const match of target.expr.matchAll(/switchyard_[a-z_]+/g)) queried.add(match[0].replace(/_(bucket|count|sum)$/, ''));
    }
  }
  assert.ok(queried.size >= 8);
  for (const name of queried) assert.ok(registry.getSingleMetric(name), `${name} is exported`);
});
