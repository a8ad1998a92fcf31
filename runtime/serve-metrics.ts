import { createServer, type Server } from 'node:http';
import { registry } from './metrics';

/**
 * A worker's or API process's open `GET /metrics`, on a listener of its own
 * bound to `host` (keep it off the public network: its labels name every
 * tenant and its spend): this process's metrics, followed by the Temporal
 * SDK's own (`temporal_*`, served by the runtime's Prometheus exporter at
 * `sdkMetricsAddress` when one is configured), so one scrape gets both.
 */
export async function serveMetrics(options: { host: string; port: number; sdkMetricsAddress?: string }): Promise<{ url: string; server: Server }> {
  const server = createServer((request, response) => {
    if (request.method !== 'GET' || request.url !== '/metrics') {
      response.writeHead(404).end('not found\n');
      return;
    }
    void (async () => {
      let text = await registry.metrics();
      if (options.sdkMetricsAddress) {
        try {
          const sdk = await fetch(`http://${options.sdkMetricsAddress}/metrics`, { signal: AbortSignal.timeout(2_000) });
          if (sdk.ok) text += `\n${await sdk.text()}`;
        } catch {
          // The SDK's exporter is not up yet: serve our own metrics alone.
        }
      }
      response.writeHead(200, { 'content-type': registry.contentType }).end(text);
    })();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  return { url: `http://${options.host}:${port}/metrics`, server };
}
