// Run by scripts/test.sh before the tests: finds or installs what some tests
// run (Chromium for the dashboard test, redis-server for the Redis tests,
// Docker Compose for the compose file's test, promtool for the alert rules' tests), so
// a first install (a minute or so) happens here and not inside a test's
// timeout. A tool that cannot be installed is reported and left to fail the
// tests that need it, with the same one-line reason; the other tests still run.
import { resolveChromium } from './chromium';
import { resolveRedisServer } from './redis-server';
import { resolveDockerCompose } from './docker-compose';
import { resolvePromtool } from './promtool';

const TOOLS = [
  { name: 'chromium', resolve: resolveChromium },
  { name: 'redis-server', resolve: resolveRedisServer },
  { name: 'docker compose', resolve: resolveDockerCompose },
  { name: 'promtool', resolve: resolvePromtool },
];

async function main(): Promise<void> {
  for (const tool of TOOLS) {
    try {
      await tool.resolve();
    } catch (error) {
      const reason = (error as Error).message.split('\n')[0];
      process.stderr.write(`[bootstrap] ${tool.name} is unavailable; the tests that need it will fail: ${reason}\n`);
    }
  }
}

void main();
