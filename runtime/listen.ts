import type { Server } from 'node:http';
import type { Express } from 'express';

export interface RunningServer {
  url: string;
  server: Server;
  close(): Promise<void>;
}

/** Listens and resolves with the bound URL (port 0 picks a free port). */
export function listen(app: Express, host: string, port: number): Promise<RunningServer> {
  return new Promise((resolve, reject) => {
    const server = app.listen(port, host, (error?: Error) => {
      if (error) return reject(error);
      const address = server.address();
      const boundPort = typeof address === 'object' && address ? address.port : port;
      resolve({
        url: `http://${host}:${boundPort}`,
        server,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            server.closeIdleConnections();
          }),
      });
    });
    server.once('error', reject);
  });
}
